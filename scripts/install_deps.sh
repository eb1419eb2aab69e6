#!/usr/bin/env bash
# Installs, from Debian packages, whatever hpsearch needs that this machine lacks.
# Usage: scripts/install_deps.sh [extra Debian packages...]
# Needs root (or sudo) only when something is missing. On a cluster without root, load the
# equivalent environment modules or Spack packages instead (see README, "Building on a cluster").
set -euo pipefail

packages=(
  build-essential cmake pkg-config bc
  libopenmpi-dev openmpi-bin
  libeigen3-dev libyaml-cpp-dev libhdf5-dev hdf5-tools zlib1g-dev libcli11-dev
  libopenblas-serial-dev
  libgtest-dev libbenchmark-dev
  dataset-fashion-mnist
  python3-h5py python3-numpy
  slurm-wlm munge
  "$@"
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install_deps: everything is installed" >&2
  exit 0
fi

echo "install_deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install_deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
$sudo apt-get update
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"

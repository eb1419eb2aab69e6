# Sourced by the other scripts: lets Open MPI run as root (containers, CI) and put more ranks
# than cores on a machine (small test machines). Harmless for an ordinary user on a cluster.
export OMPI_ALLOW_RUN_AS_ROOT=1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1

#!/usr/bin/python3
"""Training throughput of hpsearch against PyTorch, side by side in one run, on one core.

Both train the same network on the same data: 784-256-128-10 ReLU MLP, dropout 0.2 on the
hidden layers, Adam (lr 1e-3), softmax cross-entropy, batch 128, reshuffled every epoch, on the
first 54,000 standardized Fashion-MNIST training images (the training part of a 10% split).

hpsearch is measured by build/tests/train_step_benchmark (one epoch of the real trainer,
train_mlp, per iteration), PyTorch by one timed epoch of the equivalent loop below, with
torch.set_num_threads(1) and OpenBLAS (Debian libopenblas0-openmp) as its BLAS. The headline
ratio is against PyTorch's fastest loop (tensors indexed by a random permutation); the common
DataLoader(TensorDataset) idiom is reported beside it. Runs alternate and medians are reported.

Usage: /usr/bin/python3 scripts/compare_pytorch.py [--build-dir build] [--repeats 3]
(scripts/compare_pytorch.sh installs what is missing, builds, and runs this.)
"""
import argparse
import gzip
import json
import os
import platform
import subprocess
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

DATA = "/usr/share/datasets/fashion-mnist"
SAMPLES = 54000
BATCH = 128


def load_images(path, count):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    n = int.from_bytes(raw[4:8], "big")
    rows, cols = int.from_bytes(raw[8:12], "big"), int.from_bytes(raw[12:16], "big")
    x = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(n, rows * cols)[:count]
    return x.astype(np.float32)


def load_labels(path, count):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    return np.frombuffer(raw, dtype=np.uint8, offset=8)[:count].astype(np.int64)


def torch_epoch_throughput(x, y, seed, data_loader=False):
    """Samples per second over one epoch. The default loop indexes the tensors with a random
    permutation (PyTorch's fastest form); data_loader=True uses the common idiom
    DataLoader(TensorDataset(x, y), batch_size=128, shuffle=True) instead."""
    torch.manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Dropout(0.2),
        torch.nn.Linear(256, 128), torch.nn.ReLU(), torch.nn.Dropout(0.2),
        torch.nn.Linear(128, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    model.train()

    def step(idx):
        xb, yb = x[idx], y[idx]
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()

    n = x.shape[0]
    warm = torch.randperm(n)
    for start in range(0, 20 * BATCH, BATCH):
        step(warm[start:start + BATCH])
    started = time.perf_counter()
    if data_loader:
        loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y),
                                             batch_size=BATCH, shuffle=True)
        for xb, yb in loader:
            optimizer.zero_grad(set_to_none=True)
            loss_fn(model(xb), yb).backward()
            optimizer.step()
    else:
        order = torch.randperm(n)
        for start in range(0, n, BATCH):
            step(order[start:start + BATCH])
    return n / (time.perf_counter() - started)


def hpsearch_benchmark(build_dir):
    binary = os.path.join(build_dir, "tests", "train_step_benchmark")
    if not os.access(binary, os.X_OK):
        sys.exit(f"compare_pytorch: {binary} not found; build with scripts/build.sh first")
    out = subprocess.run([binary, "--benchmark_format=json"], check=True, capture_output=True,
                         text=True).stdout
    runs = {b["name"].split("/")[0]: b for b in json.loads(out)["benchmarks"]}
    return runs


def flops_per_sample(train_epoch):
    """Training FLOPs per sample, as the benchmark counts them (flops / samples_per_s)."""
    return train_epoch["flops"] / train_epoch["samples_per_s"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", default="build")
    parser.add_argument("--repeats", type=int, default=3,
                        help="alternating runs of each; the median is reported")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()

    torch.set_num_threads(1)
    x = load_images(f"{DATA}/train-images-idx3-ubyte.gz", SAMPLES)
    x = (x - x.mean(axis=0)) / np.where(x.std(axis=0) > 0, x.std(axis=0), 1.0)
    x = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    y = torch.from_numpy(load_labels(f"{DATA}/train-labels-idx1-ubyte.gz", SAMPLES))

    hps_rates, torch_rates, loader_rates, gemm_fraction, pipeline_share = [], [], [], [], []
    for r in range(args.repeats):
        runs = hpsearch_benchmark(args.build_dir)
        epoch, gemm, pipe = runs["BM_TrainEpoch"], runs["BM_GemmSequence"], runs["BM_ShuffleGather"]
        hps_rates.append(epoch["samples_per_s"])
        gemm_fraction.append(epoch["flops"] / gemm["flops"])
        pipeline_share.append(epoch["samples_per_s"] / pipe["samples_per_s"])
        torch_rates.append(torch_epoch_throughput(x, y, seed=r))
        loader_rates.append(torch_epoch_throughput(x, y, seed=r, data_loader=True))
        print(f"run {r + 1}: hpsearch {hps_rates[-1]:,.0f} samples/s, "
              f"PyTorch {torch_rates[-1]:,.0f} samples/s, "
              f"PyTorch with DataLoader {loader_rates[-1]:,.0f} samples/s", file=sys.stderr)

    med = lambda v: float(np.median(v))  # noqa: E731
    result = {
        "cpu": platform.processor() or platform.machine(),
        "torch_version": torch.__version__,
        "hpsearch_samples_per_s": med(hps_rates),
        "pytorch_samples_per_s": med(torch_rates),
        "speedup": med(hps_rates) / med(torch_rates),
        "pytorch_dataloader_samples_per_s": med(loader_rates),
        "speedup_vs_dataloader": med(hps_rates) / med(loader_rates),
        "gemm_limited_fraction": med(gemm_fraction),
        "gemm_gflops": runs["BM_GemmSequence"]["flops"] / 1e9,
        "fma_peak_gflops": runs["BM_FmaPeak"]["flops"] / 1e9,
        # What 3x PyTorch's rate would ask of the core: the whole step (products, Adam,
        # activations, dropout, softmax, gather) at this share of its multiply-add peak.
        "peak_share_needed_for_3x": 3 * med(torch_rates) * flops_per_sample(epoch)
        / runs["BM_FmaPeak"]["flops"],
        "data_pipeline_share": med(pipeline_share),
        "repeats": args.repeats,
    }
    print("| measure | value |")
    print("|---|---|")
    print(f"| hpsearch training, 1 core | {result['hpsearch_samples_per_s']:,.0f} samples/s |")
    print(f"| PyTorch {torch.__version__} training, 1 thread | "
          f"{result['pytorch_samples_per_s']:,.0f} samples/s |")
    print(f"| hpsearch / PyTorch | {result['speedup']:.2f}x |")
    print(f"| PyTorch with DataLoader(TensorDataset, shuffle=True) | "
          f"{result['pytorch_dataloader_samples_per_s']:,.0f} samples/s |")
    print(f"| hpsearch / PyTorch with DataLoader | {result['speedup_vs_dataloader']:.2f}x |")
    print(f"| single-core GEMM rate at these shapes | {result['gemm_gflops']:.1f} GFLOP/s |")
    print(f"| hpsearch share of the GEMM-limited rate | {100 * result['gemm_limited_fraction']:.0f}% |")
    print(f"| single-core float32 multiply-add peak | {result['fma_peak_gflops']:.1f} GFLOP/s |")
    print(f"| share of that peak 3x PyTorch would need | "
          f"{100 * result['peak_share_needed_for_3x']:.0f}% |")
    print(f"| data pipeline (shuffle + gather) share of a step | "
          f"{100 * result['data_pipeline_share']:.1f}% |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()

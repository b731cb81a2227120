"""Eval-mode forward time of ResNet-20 model folders in PyTorch eager, the models
alternating pass by pass in one process (batch 128, channels-last), to compare a pruned
model's speed-up with this project's `bench-latency`. Prints the medians and each
model's speed-up over the first.

    .venv/bin/python python/pytorch_pruned_forward.py resnet20 results/resnet20_cifar10/c2s2
    NT=1 GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824 ...
"""
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
from bench_train_step import build  # noqa: E402


def main():
    names = sys.argv[1:] or ["resnet20", "results/resnet20_cifar10/c2s2"]
    torch.manual_seed(0)
    torch.set_num_threads(int(os.environ.get("NT", "2")))
    x = torch.randn(128, 3, 32, 32).to(memory_format=torch.channels_last)
    models = {n: build(n).to(memory_format=torch.channels_last).eval() for n in names}
    times = {n: [] for n in names}
    warmup, repeats = 5, 35
    with torch.no_grad():
        for r in range(warmup + repeats):
            for n, m in models.items():
                t = time.perf_counter()
                m(x)
                if r >= warmup:
                    times[n].append(time.perf_counter() - t)
    base = statistics.median(times[names[0]])
    print(f"threads {torch.get_num_threads()}, GLIBC_TUNABLES={os.environ.get('GLIBC_TUNABLES', '')!r}")
    for n in names:
        med = statistics.median(times[n])
        print(f"{n}: {1e3 * med:.1f} ms, speed-up {base / med:.3f}x")


if __name__ == "__main__":
    main()

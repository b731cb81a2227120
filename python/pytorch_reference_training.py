"""Independent PyTorch eager training of ResNet-20 on the project's decoded CIFAR-10
cache: the check that this project's trainer (data order, augmentation, optimizer,
schedule, BN, evaluation) reaches the accuracy plain PyTorch reaches on the same pixels.

Same recipe as `experiments/resnet20_cifar10_reference_check_cpu.yaml`: 45,000 training
images (5,000 random ones held out), pad-4 random crop + horizontal flip, SGD 0.1 with
Nesterov momentum 0.9 and weight decay 5e-4, batch 128, per-step cosine schedule after a
1-epoch linear warm-up. Everything else is written independently of the Rust code.

    .venv/bin/python python/pytorch_reference_training.py --epochs 8 --threads 1 \
        --out results/pipeline_checks/resnet20_reference/pytorch_metrics.csv

The cache is built by the project the first time it reads data/cifar10 (any run or
`experiments bench data`). Prints one line per epoch and writes the same as CSV.
"""
import argparse
import csv
import math
import os
import struct
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from bench_train_step import ResNet20

MEAN = torch.tensor([0.4914, 0.4822, 0.4465]).view(1, 3, 1, 1)
STD = torch.tensor([0.2470, 0.2435, 0.2616]).view(1, 3, 1, 1)


def read_cache(path):
    """The project's image cache: magic, six u64 fields, labels, then CHW uint8 pixels."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"C2S2IMG1":
        raise SystemExit(f"{path}: not an image cache file")
    _, _, c, h, w, n = struct.unpack("<6Q", data[8:56])
    labels = torch.frombuffer(bytearray(data[56 : 56 + n]), dtype=torch.uint8).long()
    pixels = torch.frombuffer(bytearray(data[56 + n :]), dtype=torch.uint8).view(n, c, h, w)
    return pixels, labels


def normalize(x_u8):
    return (x_u8.float() / 255.0 - MEAN) / STD


def augment(x_u8, gen):
    """Zero-pad by 4, random 32x32 crop, random horizontal flip (per image)."""
    n = x_u8.shape[0]
    padded = F.pad(x_u8, (4, 4, 4, 4))
    offsets = torch.randint(0, 9, (n, 2), generator=gen)
    flips = torch.rand(n, generator=gen) < 0.5
    out = torch.empty_like(x_u8)
    for i in range(n):
        dy, dx = offsets[i].tolist()
        crop = padded[i, :, dy : dy + 32, dx : dx + 32]
        out[i] = crop.flip(2) if flips[i] else crop
    return out


def init_like_torchvision(model):
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def lr_at(t, epochs, base=0.1, warmup=1.0):
    if t < warmup:
        return base * (t + 1e-3) / warmup
    p = min(max((t - warmup) / (epochs - warmup), 0.0), 1.0)
    return base * 0.5 * (1.0 + math.cos(math.pi * p))


def evaluate(model, x, y, batch=500):
    model.eval()
    correct, loss = 0, 0.0
    with torch.no_grad():
        for i in range(0, len(y), batch):
            out = model(normalize(x[i : i + batch]).contiguous(memory_format=torch.channels_last))
            loss += F.cross_entropy(out, y[i : i + batch], reduction="sum").item()
            correct += (out.argmax(1) == y[i : i + batch]).sum().item()
    return loss / len(y), 100.0 * correct / len(y)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data/cifar10")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)

    x, y = read_cache(os.path.join(a.data, ".cache", "cifar10-train.bin"))
    xt, yt = read_cache(os.path.join(a.data, ".cache", "cifar10-test.bin"))
    perm = torch.randperm(len(y), generator=gen)
    val, train = perm[:5000], perm[5000:]
    xv, yv, x, y = x[val], y[val], x[train], y[train]

    model = ResNet20()
    init_like_torchvision(model)
    model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4, nesterov=True)
    batch, n = 128, len(y)
    steps = n // batch  # drop the last partial batch
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    rows = []
    for epoch in range(a.epochs):
        model.train()
        t0 = time.time()
        order = torch.randperm(n, generator=gen)
        seen, correct, loss_sum = 0, 0, 0.0
        for s in range(steps):
            for g in opt.param_groups:
                g["lr"] = lr_at(epoch + s / steps, a.epochs)
            idx = order[s * batch : (s + 1) * batch]
            xb = normalize(augment(x[idx], gen)).contiguous(memory_format=torch.channels_last)
            out = model(xb)
            loss = F.cross_entropy(out, y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(idx)
            correct += (out.argmax(1) == y[idx]).sum().item()
            seen += len(idx)
        secs = time.time() - t0
        val_loss, val_top1 = evaluate(model, xv, yv)
        test_loss, test_top1 = evaluate(model, xt, yt)
        row = dict(
            epoch=epoch + 1,
            train_loss=round(loss_sum / seen, 4),
            train_top1=round(100.0 * correct / seen, 2),
            val_top1=round(val_top1, 2),
            test_loss=round(test_loss, 4),
            test_top1=round(test_top1, 2),
            seconds=round(secs, 1),
        )
        rows.append(row)
        print(row, flush=True)
        tmp = a.out + ".tmp"
        with open(tmp, "w", newline="") as f:
            wr = csv.DictWriter(f, fieldnames=list(row))
            wr.writeheader()
            wr.writerows(rows)
        os.replace(tmp, a.out)


if __name__ == "__main__":
    main()

"""PyTorch eager reference for `experiments bench train-step`: the same models, the same
SGD step (Nesterov, weight decay) on the same random batch shape, timed the same way
(median of `iters` steps after `warmup`). Prints one JSON line."""
import argparse
import json
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, cin, mid, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, mid, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.stride, self.pad = stride, cout - cin

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        sc = x
        if self.stride != 1 or self.pad:
            sc = x[:, :, :: self.stride, :: self.stride]
            lo = self.pad // 2
            sc = F.pad(sc, (0, 0, 0, 0, lo, self.pad - lo))
        return F.relu(y + sc)


class ResNet20(nn.Module):
    """ResNet-20, option A; `inner` gives the nine blocks' inner widths (pruned models)."""

    def __init__(self, inner=(16, 16, 16, 32, 32, 32, 64, 64, 64)):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        blocks, cin = [], 16
        for s, w in enumerate([16, 32, 64]):
            for b in range(3):
                blocks.append(Block(cin, inner[3 * s + b], w, 2 if s > 0 and b == 0 else 1))
                cin = w
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = self.blocks(F.relu(self.bn1(self.conv1(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def vgg16():
    layers, cin = [], 3
    for v in [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(cin, v, 3, padding=1, bias=False), nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
            cin = v
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(512, 512), nn.BatchNorm1d(512), nn.ReLU(inplace=True), nn.Linear(512, 10))


def build(name):
    """resnet20, vgg16, or a model folder of this project holding a ResNet-20 (model.json)."""
    if name == "resnet20":
        return ResNet20()
    if name == "vgg16":
        return vgg16()
    path = os.path.join(name, "model.json") if os.path.isdir(name) else name
    cfg = json.load(open(path))
    if cfg.get("arch") != "resnet_cifar" or cfg["stages"] != [16, 32, 64] or cfg["blocks_per_stage"] != 3 or cfg.get("shortcut") != "A":
        sys.exit(f"{path}: only ResNet-20 option A folders are mirrored here")
    return ResNet20(cfg["inner"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="resnet20")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--nchw", action="store_true")
    ap.add_argument("--bf16", action="store_true", help="bfloat16 autocast forward")
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--forward", action="store_true", help="time an eval-mode forward pass instead")
    a = ap.parse_args()
    torch.manual_seed(0)
    dev = torch.device(a.device)
    torch.backends.cudnn.benchmark = dev.type == "cuda"
    model = build(a.model)
    fmt = torch.contiguous_format if a.nchw else torch.channels_last
    model = model.to(dev, memory_format=fmt).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4, nesterov=True)
    x = torch.randn(a.batch, 3, 32, 32, device=dev).to(memory_format=fmt)
    y = torch.randint(0, 10, (a.batch,), device=dev)
    times = []
    if a.forward:
        model.eval()
        with torch.no_grad():
            for i in range(a.warmup + a.iters):
                t = time.perf_counter()
                model(x).sum().item()
                if i >= a.warmup:
                    times.append(time.perf_counter() - t)
        step = statistics.median(times)
        print(json.dumps({"impl": "pytorch-eager", "kind": "forward", "model": a.model, "batch": a.batch, "channels_last": not a.nchw,
                          "threads": torch.get_num_threads(), "forward_ms": step * 1e3, "torch": torch.__version__}))
        return
    for i in range(a.warmup + a.iters):
        t = time.perf_counter()
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=a.bf16):
            logits = model(x)
        loss = F.cross_entropy(logits.float(), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        loss.item()
        if i >= a.warmup:
            times.append(time.perf_counter() - t)
    step = statistics.median(times)
    print(json.dumps({"impl": "pytorch-eager", "model": a.model, "batch": a.batch, "channels_last": not a.nchw, "precision": "bf16" if a.bf16 else "fp32",
                      "device": a.device, "threads": torch.get_num_threads(), "step_ms": step * 1e3, "images_per_s": a.batch / step,
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()

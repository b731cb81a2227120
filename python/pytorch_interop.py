"""Loads a model saved by this project (model.json + model.safetensors) into PyTorch,
with the same parameter names and widths, and checks its output against the project's.

    python python/pytorch_interop.py MODEL_DIR INPUT.safetensors EXPECTED.safetensors

INPUT holds tensor `x` [N, 3, H, W] (32 x 32 for CIFAR models, any size for ResNet-18); EXPECTED holds tensor `y`, the project's eval-mode
logits. Exits 0 when PyTorch's logits match within 1e-4 (load_state_dict is strict).
Needs only torch (the safetensors files are parsed here)."""
import json
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "I64": torch.int64}


def read_safetensors(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    body = memoryview(data)[8 + n :]
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        start, end = meta["data_offsets"]
        t = torch.frombuffer(bytearray(body[start:end]), dtype=DTYPES[meta["dtype"]])
        out[name] = t.reshape(meta["shape"]).clone()
    return out


class Block(nn.Module):
    def __init__(self, cin, mid, cout, stride, shortcut):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, mid, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.kind, self.stride, self.cin, self.cout = None, stride, cin, cout
        if stride != 1 or cin != cout:
            self.kind = shortcut
            if shortcut == "B":
                self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        if self.kind is None:
            sc = x
        elif self.kind == "B":
            sc = self.shortcut(x)
        else:
            lo = (self.cout - self.cin) // 2
            sc = F.pad(x[:, :, :: self.stride, :: self.stride], (0, 0, 0, 0, lo, self.cout - self.cin - lo))
        return F.relu(y + sc)


class ResNetCifar(nn.Module):
    def __init__(self, c):
        super().__init__()
        st, n = c["stages"], c["blocks_per_stage"]
        self.conv1 = nn.Conv2d(3, st[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(st[0])
        cin, i = st[0], 0
        for s in range(3):
            blocks = []
            for b in range(n):
                blocks.append(Block(cin, c["inner"][i], st[s], 2 if s > 0 and b == 0 else 1, c["shortcut"]))
                cin, i = st[s], i + 1
            setattr(self, f"layer{s + 1}", nn.Sequential(*blocks))
        self.fc = nn.Linear(st[2], c["num_classes"])

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class TvBlock(nn.Module):
    """torchvision's BasicBlock (ResNet-18), with the inner width `mid`."""

    def __init__(self, cin, mid, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, mid, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)))


class ResNet18(nn.Module):
    """torchvision's resnet18 layout, written out (torchvision is not a dependency)."""

    def __init__(self, c):
        super().__init__()
        st = c["stages"]
        self.conv1 = nn.Conv2d(3, st[0], 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(st[0])
        cin, i = st[0], 0
        for s in range(4):
            blocks = []
            for b in range(2):
                blocks.append(TvBlock(cin, c["inner"][i], st[s], 2 if s > 0 and b == 0 else 1))
                cin, i = st[s], i + 1
            setattr(self, f"layer{s + 1}", nn.Sequential(*blocks))
        self.fc = nn.Linear(st[3], c["num_classes"])

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def vgg16_cifar(c):
    layers, cin = [], 3
    for i, w in enumerate(c["convs"]):
        layers += [nn.Conv2d(cin, w, 3, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU()]
        cin = w
        if i in (1, 3, 6, 9, 12):
            layers.append(nn.MaxPool2d(2, 2))
    m = nn.Module()
    m.features = nn.Sequential(*layers)
    m.classifier = nn.Sequential(nn.Linear(cin, c["hidden"]), nn.BatchNorm1d(c["hidden"]), nn.ReLU(), nn.Linear(c["hidden"], c["num_classes"]))
    m.forward = lambda x: m.classifier(torch.flatten(m.features(x), 1))
    return m


def main():
    model_dir, inp, expected = sys.argv[1:4]
    cfg = json.load(open(f"{model_dir}/model.json"))
    arch = cfg.pop("arch")
    model = {"resnet_cifar": ResNetCifar, "vgg16_cifar": vgg16_cifar, "resnet18": ResNet18}[arch](cfg)
    state = {k: v.float() if v.is_floating_point() else v for k, v in read_safetensors(f"{model_dir}/model.safetensors").items()}
    model.load_state_dict(state, strict=True)
    model.eval()
    x = read_safetensors(inp)["x"]
    y = read_safetensors(expected)["y"]
    with torch.no_grad():
        out = model(x)
    diff = (out - y).abs().max().item()
    print(json.dumps({"arch": arch, "max_abs_diff": diff}))
    sys.exit(0 if diff < 1e-4 else 1)


if __name__ == "__main__":
    main()

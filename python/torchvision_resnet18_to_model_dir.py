"""Turns torchvision's ImageNet ResNet-18 weights into a model folder this project
loads (`prune.from`, `experiments eval`): model.safetensors + model.json.

    python python/torchvision_resnet18_to_model_dir.py resnet18-f37072fd.pth results/resnet18_imagenet/pretrained
    cargo run --release -p experiments -- eval results/resnet18_imagenet/pretrained --spec resnet18_imagenet

The project's ResNet-18 uses torchvision's parameter and buffer names (BN running
statistics and `num_batches_tracked` included), so the tensors are copied as they are.
Input: a state_dict saved with torch.save (torchvision's download) or a safetensors
file. Needs only torch. `--self-test DIR` writes random weights of torchvision's layout
to DIR instead (to check the loading path without the real file)."""
import json
import os
import sys

import torch

from pytorch_interop import read_safetensors  # same folder: sys.path[0]
from vgg16_to_fcn32s import write_safetensors

STAGES = [64, 128, 256, 512]


def random_state():
    """Random tensors with torchvision's ResNet-18 names and shapes."""
    s = {"conv1.weight": torch.randn(64, 3, 7, 7) * 0.05}

    def bn(p, c):
        s.update({f"{p}.weight": torch.ones(c), f"{p}.bias": torch.zeros(c),
                  f"{p}.running_mean": torch.zeros(c), f"{p}.running_var": torch.ones(c),
                  f"{p}.num_batches_tracked": torch.tensor(0)})

    bn("bn1", 64)
    cin = 64
    for li, w in enumerate(STAGES, 1):
        for b in range(2):
            p = f"layer{li}.{b}"
            s[f"{p}.conv1.weight"] = torch.randn(w, cin if b == 0 else w, 3, 3) * 0.05
            bn(f"{p}.bn1", w)
            s[f"{p}.conv2.weight"] = torch.randn(w, w, 3, 3) * 0.05
            bn(f"{p}.bn2", w)
            if b == 0 and li > 1:
                s[f"{p}.downsample.0.weight"] = torch.randn(w, cin, 1, 1) * 0.05
                bn(f"{p}.downsample.1", w)
        cin = w
    s["fc.weight"] = torch.randn(1000, 512) * 0.01
    s["fc.bias"] = torch.zeros(1000)
    return s


def convert(state, out_dir):
    tensors = dict(state)
    if tuple(tensors.get("fc.weight", torch.empty(0)).shape) != (1000, 512):
        sys.exit("not a torchvision ResNet-18 state_dict (fc.weight should be 1000 x 512)")
    os.makedirs(out_dir, exist_ok=True)
    write_safetensors(tensors, os.path.join(out_dir, "model.safetensors"))
    config = {"arch": "resnet18", "stages": STAGES,
              "inner": [w for w in STAGES for _ in range(2)], "num_classes": 1000}
    with open(os.path.join(out_dir, "model.json"), "w") as f:
        json.dump(config, f, indent=2)
    print(f"wrote {out_dir}/model.safetensors ({len(tensors)} tensors) and model.json")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--self-test":
        convert(random_state(), sys.argv[2])
    elif len(sys.argv) == 3:
        src = sys.argv[1]
        state = read_safetensors(src) if src.endswith(".safetensors") else torch.load(src, map_location="cpu", weights_only=True)
        convert(state, sys.argv[2])
    else:
        sys.exit(__doc__)

"""Converts torchvision's ImageNet VGG-16 weights into this project's FCN-32s parameter
names, for `model.init_from` (Long et al. 2015 start FCN-32s from them):

    python python/vgg16_to_fcn32s.py vgg16-397923af.pth results/fcn_voc2011/vgg16_imagenet.safetensors

`features.*` keep their names; the classifier's fully connected layers become the
convolutions `fc6` (classifier.0: 4096 x 25088 -> 4096 x 512 x 7 x 7) and `fc7`
(classifier.3: 4096 x 4096 -> 4096 x 4096 x 1 x 1), as in the FCN paper. The 1000-way
classifier.6 is dropped (FCN-32s's `score_fr` starts from zero / random). Input: a
state_dict saved with torch.save (torchvision's download) or a safetensors file.
Needs only torch. `--self-test` checks the conversion on random weights."""
import ctypes
import json
import struct
import sys

import torch

from pytorch_interop import read_safetensors  # same folder: sys.path[0]


def read_state(path):
    if path.endswith(".safetensors"):
        return read_safetensors(path)
    return torch.load(path, map_location="cpu", weights_only=True)


def write_safetensors(tensors, path):
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        t = tensors[name].detach()
        # Integer buffers (BN's num_batches_tracked) stay int64; the rest float32.
        t, dtype = (t.to(torch.int64), "I64") if not t.is_floating_point() else (t.to(torch.float32), "F32")
        t = t.contiguous()
        b = ctypes.string_at(t.data_ptr(), t.numel() * t.element_size())
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    import os

    os.replace(tmp, path)


def convert(state):
    out = {k: v for k, v in state.items() if k.startswith("features.")}
    convs = sorted({k.rsplit(".", 1)[0] for k in out}, key=lambda s: int(s.split(".")[1]))
    if len(convs) != 13:
        sys.exit(f"expected the 13 convolutions of VGG-16 (no BN) under features.*, found {len(convs)}")
    w6 = state["classifier.0.weight"]
    if tuple(w6.shape) != (4096, 25088):
        sys.exit(f"classifier.0.weight has shape {tuple(w6.shape)}, expected (4096, 25088)")
    out["fc6.weight"] = w6.reshape(4096, 512, 7, 7)
    out["fc6.bias"] = state["classifier.0.bias"]
    out["fc7.weight"] = state["classifier.3.weight"].reshape(4096, 4096, 1, 1)
    out["fc7.bias"] = state["classifier.3.bias"]
    return out


def self_test():
    widths = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
    state, i, cin = {}, 0, 3
    for w in widths:
        if w == "M":
            i += 1
            continue
        state[f"features.{i}.weight"] = torch.randn(w, cin, 3, 3)
        state[f"features.{i}.bias"] = torch.randn(w)
        cin, i = w, i + 2
    state["classifier.0.weight"] = torch.randn(4096, 25088)
    state["classifier.0.bias"] = torch.randn(4096)
    state["classifier.3.weight"] = torch.randn(4096, 4096)
    state["classifier.3.bias"] = torch.randn(4096)
    state["classifier.6.weight"] = torch.randn(1000, 4096)
    out = convert(state)
    # fc6 as a 7x7 convolution on a 512x7x7 map equals classifier.0 on the flattened map.
    x = torch.randn(2, 512, 7, 7)
    conv = torch.nn.functional.conv2d(x, out["fc6.weight"], out["fc6.bias"]).flatten(1)
    lin = torch.nn.functional.linear(x.flatten(1), state["classifier.0.weight"], state["classifier.0.bias"])
    assert torch.allclose(conv, lin, atol=1e-3), (conv - lin).abs().max()
    assert "classifier.6.weight" not in out and len(out) == 26 + 4
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        write_safetensors(out, d + "/x.safetensors")
        back = read_state(d + "/x.safetensors")
        assert all(torch.equal(back[k], out[k]) for k in out), "safetensors round trip"
    print("self-test ok: 13 convs + fc6 + fc7, fc6 conv == classifier.0 linear")


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        self_test()
    elif len(sys.argv) == 3:
        write_safetensors(convert(read_state(sys.argv[1])), sys.argv[2])
        print(f"wrote {sys.argv[2]}")
    else:
        sys.exit(__doc__)

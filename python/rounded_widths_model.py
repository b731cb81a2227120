"""Latency-only copy of a pruned ResNet-CIFAR model with every block's inner width
rounded up to a multiple of N, for `experiments bench-latency`: it shows what rounding
the widths (C2S2's `round_to` option) would buy on a given machine, before anyone
spends a pruning run on it. The weights are the unpruned model's first k channels, so
the copy's ACCURACY MEANS NOTHING; only its speed does.

    python3 python/rounded_widths_model.py UNPRUNED_DIR PRUNED_DIR N OUT_DIR

Plain Python (no numpy / torch): safetensors is an 8-byte header length, a JSON
header, then the raw little-endian tensors."""
import json
import struct
import sys
from pathlib import Path


def read_safetensors(path):
    b = Path(path).read_bytes()
    n = struct.unpack("<Q", b[:8])[0]
    header = json.loads(b[8 : 8 + n])
    header.pop("__metadata__", None)
    data = b[8 + n :]
    return {k: (v["dtype"], v["shape"], data[v["data_offsets"][0] : v["data_offsets"][1]]) for k, v in header.items()}


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        dtype, shape, raw = tensors[name]
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    Path(path).write_bytes(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def slice_dim(dtype, shape, raw, dim, k):
    """First k entries along dim 0 or 1 of a float32 tensor."""
    assert dtype == "F32", dtype
    inner = 1
    for s in shape[dim + 1 :]:
        inner *= s
    outer = 1
    for s in shape[:dim]:
        outer *= s
    row = shape[dim] * inner * 4
    out = b"".join(raw[o * row : o * row + k * inner * 4] for o in range(outer))
    return dtype, shape[:dim] + [k] + shape[dim + 1 :], out


def main():
    unpruned, pruned, n, out = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
    cfg = json.loads((pruned / "model.json").read_text())
    assert cfg["arch"] == "resnet_cifar", "only ResNet-CIFAR models"
    cfg["inner"] = [min(-(-w // n) * n, full) for w, full in zip(cfg["inner"], [cfg["stages"][i // cfg["blocks_per_stage"]] for i in range(len(cfg["inner"]))])]
    tensors = read_safetensors(unpruned / "model.safetensors")
    blocks = [f"layer{s + 1}.{b}" for s in range(len(cfg["stages"])) for b in range(cfg["blocks_per_stage"])]
    for block, k in zip(blocks, cfg["inner"]):
        tensors[f"{block}.conv1.weight"] = slice_dim(*tensors[f"{block}.conv1.weight"], 0, k)
        for p in ["weight", "bias", "running_mean", "running_var"]:
            tensors[f"{block}.bn1.{p}"] = slice_dim(*tensors[f"{block}.bn1.{p}"], 0, k)
        tensors[f"{block}.conv2.weight"] = slice_dim(*tensors[f"{block}.conv2.weight"], 1, k)
    out.mkdir(parents=True, exist_ok=True)
    write_safetensors(out / "model.safetensors", tensors)
    (out / "model.json").write_text(json.dumps(cfg, indent=2))
    (out / "README.md").write_text(
        f"Latency-only model: the widths of {pruned} rounded up to a multiple of {n} "
        f"({cfg['inner']}), weights = the first channels of {unpruned}. Its accuracy means nothing.\n"
    )
    print(out, cfg["inner"])


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Independent reference for tests/tst_serve.cpp: what each output mode of the
teacher server must answer, computed with PyTorch from the exported model.

  serve_reference.py MODEL.pt IMAGES.idx[.gz] N DIVIDE_BY MEAN STD K DECIMALS

Loads MODEL.pt with torch.jit.load (eval mode), takes the first N images of the
IDX file, preprocesses them as the run did ((x / DIVIDE_BY - MEAN) / STD),
and prints one JSON object: the float64 softmax ("probs"), torch.topk's classes
and probabilities ("topk"), the probabilities rounded to DECIMALS places
("rounded", with the unrounded ones beside them in "probs") and the argmax
("label"), per image.
"""
import gzip
import json
import struct
import sys

import torch


def read_idx(path):
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return torch.frombuffer(bytearray(data[4 + 4 * ndim:]), dtype=torch.uint8).reshape(dims)


def main():
    model_path, images_path, n, divide_by, mean, std, k, decimals = sys.argv[1:9]
    n, k, decimals = int(n), int(k), int(decimals)
    x = read_idx(images_path)[:n].float().unsqueeze(1)
    x = (x / float(divide_by) - float(mean)) / float(std)
    model = torch.jit.load(model_path)
    model.eval()
    with torch.no_grad():
        probs = torch.softmax(model(x).double(), dim=1)
    top = torch.topk(probs, k, dim=1)
    scale = 10.0 ** decimals
    out = {
        "probs": probs.tolist(),
        "label": probs.argmax(dim=1).tolist(),
        "topk": {"classes": top.indices.tolist(), "probs": top.values.tolist()},
        "rounded": (torch.round(probs * scale) / scale).tolist(),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()

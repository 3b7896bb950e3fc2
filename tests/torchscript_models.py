#!/usr/bin/python3
"""TorchScript models made by real PyTorch, for tst_interop.

  torchscript_models.py make DATA_DIR OUT_DIR
      Writes, in OUT_DIR: teacher_trace.pt (a small net with BatchNorm and a
      residual block, briefly trained on DATA_DIR's Fashion-MNIST-named IDX
      files, then torch.jit.trace'd in eval mode), teacher_script.pt (the same
      weights through torch.jit.script), wrapped_trace.pt (the same net in a
      one-child wrapper module, traced), wrong_classes.pt (5 outputs),
      wrong_channels.pt (expects 3-channel images), student_script.pt (an
      untrained scripted net to be trained by Distillery),
      student_trace_train.pt and student_trace_eval.pt (that net traced in
      train and in eval mode: BatchNorm fixed in that mode), teacher_trace_train.pt
      (the trained net traced in train mode: outputs depend on the batch) and
      teacher_trace.test.f32 (the traced teacher's logits on the first 64
      test images, for comparing with Distillery's), and two files that are not
      usable TorchScript: state_dict.pt (torch.save of a state_dict) and
      newer_version.pt (teacher_trace.pt claiming file format version 99).

  torchscript_models.py run MODEL.pt INPUT.f32 N C H W OUTPUT.f32 [MODEL.pt ...]
      For each group of seven arguments: loads MODEL.pt with torch.jit.load,
      puts it in eval mode, runs it on the raw little-endian float32 images
      INPUT.f32 [N, C, H, W] and writes its logits as raw float32 to
      OUTPUT.f32. Prints "MODEL.pt parameters P" for each.

Inputs are normalised as Distillery does by default: (x/255 - 0.2860) / 0.3530.
"""
import copy
import gzip
import os
import struct
import sys
import zipfile

import torch
import torch.nn as nn
import torch.nn.functional as F

MEAN, STD = 0.2860, 0.3530


def read_idx(path):
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return torch.frombuffer(bytearray(data[4 + 4 * ndim:]), dtype=torch.uint8).reshape(dims)


def load_split(data_dir, split):
    x = read_idx(os.path.join(data_dir, split + "-images-idx3-ubyte.gz")).float().unsqueeze(1)
    y = read_idx(os.path.join(data_dir, split + "-labels-idx1-ubyte.gz")).long()
    return (x / 255.0 - MEAN) / STD, y


class Residual(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(y)) + x)


class SmallNet(nn.Module):
    def __init__(self, in_channels=1, classes=10, width=8):
        super().__init__()
        self.stem = nn.Conv2d(in_channels, width, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(width)
        self.block = Residual(width)
        self.pool = nn.MaxPool2d(4)
        self.fc = nn.Linear(width * 7 * 7, classes)

    def forward(self, x):
        x = F.relu(self.bn(self.stem(x)))
        x = self.pool(self.block(x))
        return self.fc(torch.flatten(x, 1))


class ScriptedStudent(nn.Module):
    """A small MLP with BatchNorm; scripted, so train()/eval() switch its BatchNorm."""

    def __init__(self, classes=10):
        super().__init__()
        self.fc1 = nn.Linear(784, 32)
        self.bn = nn.BatchNorm1d(32)
        self.fc2 = nn.Linear(32, classes)

    def forward(self, x):
        return self.fc2(F.relu(self.bn(self.fc1(torch.flatten(x, 1)))))


class Wrapped(nn.Module):
    """A network inside a shell, as models are often saved (the shell might add preprocessing)."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x)


def make(data_dir, out_dir):
    torch.manual_seed(0)
    torch.set_num_threads(1)
    x, y = load_split(data_dir, "train")
    net = SmallNet()
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    net.train()
    for step in range(40):  # brief: enough to be far better than chance on the synthetic bars
        idx = torch.randint(0, x.shape[0], (64,))
        loss = F.cross_entropy(net(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()
    example = x[:4]
    torch.jit.trace(net, example).save(os.path.join(out_dir, "teacher_trace.pt"))
    torch.jit.script(net).save(os.path.join(out_dir, "teacher_script.pt"))
    torch.jit.trace(Wrapped(net), example).save(os.path.join(out_dir, "wrapped_trace.pt"))
    torch.jit.script(SmallNet(classes=5).eval()).save(os.path.join(out_dir, "wrong_classes.pt"))
    torch.jit.script(SmallNet(in_channels=3).eval()).save(os.path.join(out_dir, "wrong_channels.pt"))
    torch.jit.script(ScriptedStudent()).save(os.path.join(out_dir, "student_script.pt"))
    # Tracing records BatchNorm's mode as a constant; copies, since a train-mode trace updates running stats.
    torch.jit.trace(ScriptedStudent().train(), example).save(os.path.join(out_dir, "student_trace_train.pt"))
    torch.jit.trace(ScriptedStudent().eval(), example).save(os.path.join(out_dir, "student_trace_eval.pt"))
    torch.jit.trace(copy.deepcopy(net).train(), example).save(os.path.join(out_dir, "teacher_trace_train.pt"))
    # Not TorchScript: a state_dict saved with torch.save.
    torch.save(net.state_dict(), os.path.join(out_dir, "state_dict.pt"))
    # TorchScript whose format version (archive/version) claims a future PyTorch.
    with zipfile.ZipFile(os.path.join(out_dir, "teacher_trace.pt")) as src, \
            zipfile.ZipFile(os.path.join(out_dir, "newer_version.pt"), "w", zipfile.ZIP_STORED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            dst.writestr(item, b"99\n" if item.filename.endswith("/version") else data)
    tx, ty = load_split(data_dir, "t10k")
    with torch.no_grad():
        logits = net(tx[:64])
    with open(os.path.join(out_dir, "teacher_trace.test.f32"), "wb") as f:
        f.write(logits.contiguous().numpy().astype("<f4").tobytes())
    acc = (net(tx).argmax(1) == ty).float().mean().item()
    print("teacher test accuracy %.4f" % acc)


def run(model_path, input_path, n, c, h, w, output_path):
    torch.set_num_threads(1)
    model = torch.jit.load(model_path)
    model.eval()
    with open(input_path, "rb") as f:
        x = torch.frombuffer(bytearray(f.read()), dtype=torch.float32).reshape(n, c, h, w)
    with torch.no_grad():
        out = model(x)
    with open(output_path, "wb") as f:
        f.write(out.contiguous().numpy().astype("<f4").tobytes())
    print(model_path, "parameters", sum(p.numel() for p in model.parameters()))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "make":
        make(sys.argv[2], sys.argv[3])
    elif len(sys.argv) >= 9 and (len(sys.argv) - 2) % 7 == 0 and sys.argv[1] == "run":
        for i in range(2, len(sys.argv), 7):
            job = sys.argv[i:i + 7]
            run(job[0], job[1], *map(int, job[2:6]), job[6])
    else:
        sys.exit(__doc__)

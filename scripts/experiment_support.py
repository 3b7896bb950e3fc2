"""What the results scripts share: running the CLI, IDX files, a served
teacher, and a transfer set of digits rendered from this machine's fonts.
Imported by scripts/api_defenses_results.py and scripts/haystack_results.py."""
import gzip
import os
import re
import signal
import struct
import subprocess
import sys
import time

import numpy as np


def run(cmd, env=None, check=True):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if check and p.returncode != 0:
        sys.exit("failed: %s\n%s%s" % (" ".join(cmd), p.stdout[-2000:], p.stderr[-2000:]))
    return p


def write_idx(path, array, magic):
    with gzip.open(path, "wb") as f:
        f.write(struct.pack(">I", magic))
        for d in array.shape:
            f.write(struct.pack(">I", d))
        f.write(array.astype(np.uint8).tobytes())


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data[4 + 4 * ndim:], dtype=np.uint8).reshape(dims)


def rendered_digits(folder, n_train, n_test, seed=0):
    """Digits 0-9 drawn with every usable font on this machine, jittered
    (rotation, scale, shift, stroke), as MNIST-like IDX files: a transfer set
    of natural-looking images unlike Fashion-MNIST's clothes."""
    import torch
    import torch.nn.functional as F
    from PIL import Image, ImageDraw, ImageFont
    out = subprocess.run(["fc-list", ":", "file"], capture_output=True, text=True).stdout.split("\n")
    fonts = sorted({l.split(":")[0].strip() for l in out if re.search(r"\.(ttf|otf)$", l.split(":")[0].strip(), re.I)})
    fonts = [f for f in fonts if not re.search(r"symbol|math|dingbat|Z003|D050000L|Fallback", f, re.I)]
    glyphs, labels = [], []
    for path in fonts:
        try:
            font = ImageFont.truetype(path, 40)
        except OSError:
            continue
        for d in range(10):
            img = Image.new("L", (56, 56), 0)
            draw = ImageDraw.Draw(img)
            box = draw.textbbox((0, 0), str(d), font=font)
            w, h = box[2] - box[0], box[3] - box[1]
            if w <= 2 or h <= 2:
                continue
            draw.text(((56 - w) / 2 - box[0], (56 - h) / 2 - box[1]), str(d), fill=255, font=font)
            glyphs.append(np.asarray(img, dtype=np.float32) / 255.0)
            labels.append(d)
    glyphs = torch.tensor(np.stack(glyphs)).unsqueeze(1)
    labels = np.array(labels)
    g = torch.Generator().manual_seed(seed)
    total = n_train + n_test
    pick = torch.randint(0, glyphs.shape[0], (total,), generator=g)
    angle = (torch.rand(total, generator=g) - 0.5) * 0.6          # +-17 degrees
    scale = 0.9 + torch.rand(total, generator=g) * 0.5             # the digit fills about 20 of 28 pixels, like MNIST
    shift = (torch.rand(total, 2, generator=g) - 0.5) * 0.2
    cos, sin = torch.cos(angle) * scale, torch.sin(angle) * scale
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    images = []
    for i in range(0, total, 4096):
        src = glyphs[pick[i:i + 4096]]
        grid = F.affine_grid(theta[i:i + 4096], (src.shape[0], 1, 28, 28), align_corners=False)
        img = F.grid_sample(src, grid, align_corners=False)
        thick = torch.rand(src.shape[0], generator=g) < 0.4        # some strokes thicker
        img[thick] = F.max_pool2d(img[thick], 3, 1, 1) if thick.any() else img[thick]
        images.append((img.clamp(0, 1) * 255).round().squeeze(1).to(torch.uint8).numpy())
    images = np.concatenate(images)
    y = labels[pick.numpy()]
    os.makedirs(folder, exist_ok=True)
    write_idx(os.path.join(folder, "train-images-idx3-ubyte.gz"), images[:n_train], 0x803)
    write_idx(os.path.join(folder, "train-labels-idx1-ubyte.gz"), y[:n_train], 0x801)
    write_idx(os.path.join(folder, "t10k-images-idx3-ubyte.gz"), images[n_train:], 0x803)
    write_idx(os.path.join(folder, "t10k-labels-idx1-ubyte.gz"), y[n_train:], 0x801)
    return len(fonts)


class Server:
    def __init__(self, cli, db, teacher, config):
        self.p = subprocess.Popen([cli, "serve", str(teacher), "--config", config, "--port", "0", "--db", db],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.port = None
        deadline = time.time() + 60
        while time.time() < deadline and self.port is None:
            line = self.p.stdout.readline()
            if not line:
                break
            if line.startswith("port="):
                self.port = int(line.split("=")[1])
        if self.port is None:
            sys.exit("serve did not start: " + self.p.stderr.read())

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(30)
        except subprocess.TimeoutExpired:
            self.p.kill()

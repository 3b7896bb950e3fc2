#!/usr/bin/python3
"""Independent reference pixels for tests/tst_data.cpp (image decoding).

Run with Debian's /usr/bin/python3 (python3-pil, python3-numpy) as
    image_reference.py DIR
It writes test images of its own into DIR with PIL (names starting "pil_"),
next to those tst_data.cpp wrote with libpng/libjpeg (names starting "cpp_":
what PIL cannot write, such as a gAMA chunk or 16-bit colour), then decodes
every .png/.jpg in DIR the way a PyTorch user does,
    Image.open(path).convert("L") and .convert("RGB"),
and prints one JSON object {file: {"width", "height", "L": [...], "RGB": [...]}}
with the pixels row-major (RGB interleaved).

One exception, on purpose: PIL opens a 16-bit grey PNG as mode "I" and
convert("L") clips it (every value above 255 becomes 255). There the reference
is the high byte of PIL's 16-bit values (v >> 8), which is what PIL itself gives
for 16-bit colour PNGs and what torchvision.io.decode_png followed by
to_dtype(torch.uint8, scale=True) gives for all of them.
"""
import json
import os
import sys

import numpy as np
from PIL import Image

out_dir = sys.argv[1]
rng = np.random.default_rng(15)


def save(name, image, **options):
    image.save(os.path.join(out_dir, name), **options)


def random_u8(*shape):
    return rng.integers(0, 256, size=shape, dtype=np.uint8)


# RGB: the primaries, white, black, grey and random colours.
rgb = random_u8(4, 8, 3)
rgb[0, :6] = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255], [0, 0, 0], [128, 128, 128]]
save("pil_rgb.png", Image.fromarray(rgb, "RGB"))

# RGBA, including the half-transparent red; alpha is dropped, not composited.
rgba = random_u8(4, 8, 4)
rgba[0, 0] = [255, 0, 0, 128]
rgba[0, 1] = [10, 200, 30, 0]
save("pil_rgba.png", Image.fromarray(rgba, "RGBA"))

save("pil_la.png", Image.fromarray(random_u8(3, 5, 2), "LA"))
save("pil_l.png", Image.fromarray(random_u8(5, 3), "L"))
save("pil_1bit.png", Image.fromarray(random_u8(4, 9) > 127).convert("1"))

# A palette image whose entry 2 is marked transparent (tRNS).
palette = Image.fromarray(rng.integers(0, 4, size=(4, 6), dtype=np.uint8), "P")
palette.putpalette([250, 10, 10, 10, 250, 10, 10, 10, 250, 120, 60, 200])
save("pil_palette_trns.png", palette, transparency=2)

# 16-bit grey, including the 128 * 257.
grey16 = rng.integers(0, 65536, size=(3, 7)).astype(np.uint16)
grey16[0, :4] = [128 * 257, 65535, 255, 256]
save("pil_grey16.png", Image.fromarray(grey16, "I;16"))

# JPEGs: colour, grey and (Adobe, inverted) CMYK.
smooth = np.clip(np.add.outer(np.arange(16) * 12, np.arange(16) * 5), 0, 255).astype(np.uint8)
colour = np.stack([smooth, smooth.T, 255 - smooth], axis=2)
save("pil_rgb.jpg", Image.fromarray(colour, "RGB"), quality=90)
save("pil_l.jpg", Image.fromarray(smooth, "L"), quality=90)
cmyk = np.stack([smooth, smooth.T, 255 - smooth, smooth // 3], axis=2)
save("pil_cmyk.jpg", Image.fromarray(cmyk, "CMYK"), quality=90)

reference = {}
for name in sorted(os.listdir(out_dir)):
    if not (name.endswith(".png") or name.endswith(".jpg")):
        continue
    image = Image.open(os.path.join(out_dir, name))
    image.load()
    if image.mode in ("I", "I;16", "I;16B"):
        grey = (np.asarray(image, dtype=np.uint32) >> 8).astype(np.uint8)
        l_pixels = grey
        rgb_pixels = np.stack([grey] * 3, axis=2)
    else:
        l_pixels = np.asarray(image.convert("L"))
        rgb_pixels = np.asarray(image.convert("RGB"))
    reference[name] = {
        "mode": image.mode,
        "width": image.width,
        "height": image.height,
        "L": l_pixels.reshape(-1).tolist(),
        "RGB": rgb_pixels.reshape(-1).tolist(),
    }
print(json.dumps(reference))

#!/usr/bin/env python3
"""Draws the app icons (two overlapping rounded squares: two folds, two factors) as PNGs.
Run: python3 tools/make-icons.py. Kept as code so the icons can be regenerated and reviewed."""
import struct, zlib, sys, os

def png(size, pixels):
    raw = b''.join(b'\x00' + bytes(pixels[y * size * 4:(y + 1) * size * 4]) for y in range(size))
    def chunk(kind, data):
        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff)
    return b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', size, size, 8, 6, 0, 0, 0)) + \
        chunk(b'IDAT', zlib.compress(raw, 9)) + chunk(b'IEND', b'')

def inside(x, y, x0, y0, x1, y1, r):
    cx = min(max(x, x0 + r), x1 - r); cy = min(max(y, y0 + r), y1 - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r

def icon(size):
    px = []
    s = size
    for y in range(s):
        for x in range(s):
            fx, fy = x + 0.5, y + 0.5
            back = inside(fx, fy, 0.06 * s, 0.06 * s, 0.66 * s, 0.66 * s, 0.1 * s)
            front = inside(fx, fy, 0.34 * s, 0.34 * s, 0.94 * s, 0.94 * s, 0.1 * s)
            if front: px += [31, 95, 191, 255]
            elif back: px += [110, 168, 255, 255]
            else: px += [0, 0, 0, 0]
    return png(s, px)

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'assets')
for name, size in [('tray.png', 32), ('icon.png', 512)]:
    with open(os.path.join(out, name), 'wb') as f:
        f.write(icon(size))

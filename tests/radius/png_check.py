#!/usr/bin/python3
"""Check the radius chart in a screenshot of the HTML report.

    png_check.py SCREENSHOT.png REPORT.json

The chart is drawn at the page's top-left corner, 520 px square (html.c):
one equal sector per category, the reached fraction of its applicable probes
red, the rest green, a category with nothing applicable grey.  So, counting
pixels of those exact colours in that square, red / (red + green) must be the
mean reached fraction over the categories with something applicable, and grey
the share of categories with nothing applicable; a dark red ring marks each
category where anything was reached, and only those.  Standard library only: the
PNG is decoded here with zlib.
"""
import json
import struct
import sys
import zlib

CHART = 520
RED = (0xD6, 0x27, 0x28)
GREEN = (0x2C, 0xA0, 0x2C)
GREY = (0xC7, 0xC7, 0xC7)
ALERT = (0x8B, 0x00, 0x00)  # the ring around a category where anything was reached
TOL = 0.03


def fail(msg):
    print("png_check: FAIL: " + msg)
    sys.exit(1)


def decode_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail(path + " is not a PNG")
    pos, idat, hdr = 8, [], None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if not hdr:
        fail("no IHDR")
    width, height, depth, ctype, _, _, interlace = hdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        fail("unsupported PNG (depth %d, colour type %d, interlace %d)" % (depth, ctype, interlace))
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    rows, prev, p = [], bytearray(stride), 0
    for _ in range(height):
        ftype = raw[p]
        line = bytearray(raw[p + 1:p + 1 + stride])
        p += 1 + stride
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 255
            elif ftype == 2:
                line[i] = (line[i] + b) & 255
            elif ftype == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 255
            elif ftype == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 255
            elif ftype != 0:
                fail("bad PNG filter %d" % ftype)
        rows.append(line)
        prev = line
    return width, height, bpp, rows


def near(px, col):
    return all(abs(px[i] - col[i]) <= 6 for i in range(3))


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    width, height, bpp, rows = decode_png(sys.argv[1])
    report = json.load(open(sys.argv[2]))
    if width < CHART or height < CHART:
        fail("screenshot %dx%d smaller than the chart" % (width, height))
    red = green = grey = alert = 0
    colours = set()
    for y in range(CHART):
        line = rows[y]
        for x in range(CHART):
            px = line[x * bpp:x * bpp + 3]
            colours.add(bytes(px))
            if near(px, RED):
                red += 1
            elif near(px, GREEN):
                green += 1
            elif near(px, GREY):
                grey += 1
            elif near(px, ALERT):
                alert += 1
    if len(colours) < 3 or red + green + grey < 20000:
        fail("the chart area is blank or has no sectors (%d colours, %d sector pixels)"
             % (len(colours), red + green + grey))
    cats = [c for c in report["categories"]]
    applicable = [c for c in cats if c["reached"] + c["contained"] > 0]
    want_red = (sum(c["reached"] / (c["reached"] + c["contained"]) for c in applicable)
                / len(applicable)) if applicable else 0.0
    want_grey = (len(cats) - len(applicable)) / len(cats)
    got_red = red / (red + green) if red + green else 0.0
    got_grey = grey / (red + green + grey)
    print("png_check: pixels red %d green %d grey %d; red share %.3f (want %.3f), "
          "grey share %.3f (want %.3f)" % (red, green, grey, got_red, want_red, got_grey, want_grey))
    rings = sum(1 for c in cats if c["reached"])
    print("png_check: alert ring pixels %d (%d categories reached something)" % (alert, rings))
    if rings and alert < 200:
        fail("%d categories reached something but the alert ring is missing" % rings)
    if not rings and alert:
        fail("nothing reached but %d alert ring pixels" % alert)
    if abs(got_red - want_red) > TOL:
        fail("red share %.3f, expected %.3f" % (got_red, want_red))
    if abs(got_grey - want_grey) > TOL:
        fail("grey share %.3f, expected %.3f" % (got_grey, want_grey))
    print("png_check: ok")


main()

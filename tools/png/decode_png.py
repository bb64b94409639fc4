"""An independent PNG decoder (Python standard library only: zlib and struct), for checking what hdrpatch writes.

    python3 tools/png/decode_png.py FILE.png      -> prints "WIDTH HEIGHT" and the RGB bytes as hex, row by row

Reads 8-bit RGB, non-interlaced PNGs (what hdrpatch writes: colour type 2, bit depth 8), verifies every chunk's
CRC, inflates the IDAT stream and undoes the five PNG row filters (None, Sub, Up, Average, Paeth) as the PNG
specification (ISO/IEC 15948, section 9) defines them. Anything else is an error with a non-zero exit.
"""
import struct
import sys
import zlib


def fail(msg):
    sys.stderr.write("decode_png: " + msg + "\n")
    sys.exit(1)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def decode(data):
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail("not a PNG signature")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        if zlib.crc32(kind + body) & 0xFFFFFFFF != crc:
            fail("bad CRC in chunk %r" % kind)
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
        pos += 12 + length
    if header is None:
        fail("no IHDR")
    width, height, depth, colour, compression, filtering, interlace = header
    if (depth, colour, compression, filtering, interlace) != (8, 2, 0, 0, 0):
        fail("only 8-bit RGB non-interlaced is read here, got %r" % (header,))
    raw = zlib.decompress(idat)
    stride, bpp = 3 * width, 3
    if len(raw) != height * (stride + 1):
        fail("inflated %d bytes, expected %d" % (len(raw), height * (stride + 1)))
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 0:
                pred = 0
            elif f == 1:
                pred = a
            elif f == 2:
                pred = b
            elif f == 3:
                pred = (a + b) // 2
            elif f == 4:
                pred = paeth(a, b, c)
            else:
                fail("unknown filter type %d in row %d" % (f, y))
            line[i] = (line[i] + pred) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, rows


def main():
    if len(sys.argv) != 2:
        fail("usage: decode_png.py FILE.png")
    with open(sys.argv[1], "rb") as f:
        width, height, rows = decode(f.read())
    print(width, height)
    for r in rows:
        print(r.hex())


if __name__ == "__main__":
    main()

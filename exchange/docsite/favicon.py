"""The site's icon: a 16x16 square in the site's accent colour, as a PNG inside an ICO file
(browsers ask for ``/favicon.ico`` even for the JSON documents; a 404 there is noise)."""

from __future__ import annotations

import struct
import zlib

FAVICON_FILE = "favicon.ico"
_SIZE = 16
_RGB = (0x9B, 0x1C, 0x1C)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png() -> bytes:
    row = b"\x00" + bytes(_RGB) * _SIZE  # filter type 0, then RGB pixels
    header = struct.pack(">IIBBBBB", _SIZE, _SIZE, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(row * _SIZE)) + _chunk(b"IEND", b""))


def favicon() -> bytes:
    """An ICO with one PNG image (allowed since Windows Vista; every browser reads it)."""
    image = png()
    directory = struct.pack("<HHH", 0, 1, 1)
    entry = struct.pack("<BBBBHHII", _SIZE, _SIZE, 0, 0, 1, 32, len(image), 6 + 16)
    return directory + entry + image

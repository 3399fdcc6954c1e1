"""Images from untrusted bytes: the size is read from the file's header before anything is decoded.

A few hundred bytes of PNG or JPEG can announce an image of gigapixels; decoding first and measuring after
lets such a file take the memory and the time it asks for. So only the formats whose headers are read here
(JPEG, PNG, WebP, BMP) are accepted, and an image is decoded only when its announced size is within bounds.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import cv2
import numpy as np

from core.errors import AslError

FORMATS = "JPEG, PNG, WebP or BMP"
MIN_SIDE = 16  # no hand can be found in fewer pixels; scaling such a strip would give a side of 0


class ImageError(AslError):
    """Bytes that are not an image this project reads, or one out of bounds; ``status`` is the HTTP answer."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class ImageHeader:
    format: str
    width: int
    height: int

    @property
    def pixels(self) -> int:
        return self.width * self.height


def read_header(data: bytes) -> ImageHeader | None:
    """The format and size an image file announces, or None when it is none of :data:`FORMATS` (or its header
    is cut short). Nothing is decoded."""
    try:
        if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
            w, h = struct.unpack(">II", data[16:24])
            return ImageHeader("PNG", w, h)
        if data.startswith(b"\xff\xd8"):
            return _jpeg_header(data)
        if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
            return _webp_header(data)
        if data.startswith(b"BM"):
            return _bmp_header(data)
    except struct.error:
        return None  # a header cut short
    return None


def _jpeg_header(data: bytes) -> ImageHeader | None:
    """Walks the JPEG's marker segments to its frame header (SOF0-SOF15 but DHT, JPG and DAC)."""
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # no length
            i += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image, or scan data before any frame header
            return None
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            h, w = struct.unpack(">HH", data[i + 5 : i + 9])
            return ImageHeader("JPEG", w, h)
        if length < 2:
            return None
        i += 2 + length
    return None


def _webp_header(data: bytes) -> ImageHeader | None:
    chunk = data[12:16]
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        w, h = struct.unpack("<HH", data[26:30])
        return ImageHeader("WebP", w & 0x3FFF, h & 0x3FFF)
    if chunk == b"VP8L" and data[20] == 0x2F:
        (bits,) = struct.unpack("<I", data[21:25])
        return ImageHeader("WebP", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if chunk == b"VP8X":
        w = int.from_bytes(data[24:27], "little") + 1
        h = int.from_bytes(data[27:30], "little") + 1
        return ImageHeader("WebP", w, h) if len(data) >= 30 else None
    return None


def _bmp_header(data: bytes) -> ImageHeader | None:
    (dib,) = struct.unpack("<I", data[14:18])
    if dib == 12:  # OS/2 BITMAPCOREHEADER
        w, h = struct.unpack("<HH", data[18:22])
    elif dib >= 40:
        w, h = struct.unpack("<ii", data[18:26])
    else:
        return None
    return ImageHeader("BMP", w, abs(h))  # a negative height is a top-down image


def check_header(data: bytes, max_pixels: int, max_side: int | None = None) -> ImageHeader:
    """The header of an image that may be decoded: one of :data:`FORMATS`, at least :data:`MIN_SIDE` pixels
    each way, at most ``max_pixels`` (and ``max_side`` on its longer side); an :class:`ImageError` otherwise."""
    header = read_header(data)
    if header is None:
        raise ImageError(f"not an image this server reads: send a {FORMATS} file", 415)
    if min(header.width, header.height) < MIN_SIDE:
        raise ImageError(
            f"image of {header.width}x{header.height} pixels: at least {MIN_SIDE} pixels each way are needed", 422
        )
    if max_side is not None and max(header.width, header.height) > max_side:
        raise ImageError(f"image of {header.width}x{header.height} too large: at most {max_side} pixels a side", 413)
    if header.pixels > max_pixels:
        raise ImageError(f"image of {header.width}x{header.height} too large: at most {max_pixels:,} pixels", 413)
    return header


def decode_image(data: bytes, max_pixels: int, max_side: int | None = None) -> np.ndarray:
    """A BGR image from untrusted bytes, its size checked (:func:`check_header`) before it is decoded."""
    header = check_header(data, max_pixels, max_side)
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ImageError(f"a damaged {header.format} file: it could not be decoded", 415)
    h, w = image.shape[:2]
    if h * w > max_pixels or min(h, w) < MIN_SIDE:  # the decoder's size, should a header have lied
        raise ImageError(f"a {header.format} file whose header does not match its image", 415)
    return image

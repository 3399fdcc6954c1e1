"""Saving an MP4 whose index was cut short.

An MP4 keeps its frames in an ``mdat`` box and their index in a ``moov`` box, which most encoders write last. A
copy or a download that stops a few kilobytes early leaves the index incomplete, and OpenCV will not open the file
although every frame is there. When the video track's part of the index is whole (what was cut is the audio
track's, which comes after it), the file without the incomplete parts plays: :func:`complete_tracks`.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator


def boxes(data: bytes, start: int = 0, end: int | None = None) -> Iterator[tuple[bytes, int, int, int]]:
    """(type, offset, header size, declared end) of each box from ``start``; the end may lie past the data."""
    end = len(data) if end is None else end
    offset = start
    while offset + 8 <= end:
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        header = 8
        if size == 1:  # a 64-bit size follows the type
            if offset + 16 > end:
                return
            (size,) = struct.unpack(">Q", data[offset + 8 : offset + 16])
            header = 16
        elif size == 0:  # to the end of the file
            size = len(data) - offset
        if size < header:
            return
        yield kind, offset, header, offset + size
        offset += size


def complete_tracks(data: bytes) -> bytes | None:
    """The file with a cut-short ``moov`` (the last box) rebuilt from its whole children, when a whole video track
    (``trak`` with a ``vide`` handler) is among them; None when the file is not cut that way or cannot be saved."""
    top = list(boxes(data))
    if not top or top[-1][0] != b"moov" or top[-1][3] <= len(data):
        return None
    _, offset, header, _ = top[-1]
    whole = [(kind, o, e) for kind, o, _, e in boxes(data, offset + header) if e <= len(data)]
    if not any(kind == b"mvhd" for kind, _, _ in whole):
        return None
    if not any(kind == b"trak" and _is_video(data[o:e]) for kind, o, e in whole):
        return None
    body = b"".join(data[o:e] for _, o, e in whole)
    return data[:offset] + struct.pack(">I4s", 8 + len(body), b"moov") + body


def _is_video(track: bytes) -> bool:
    """Whether a ``trak`` box's handler (``hdlr``: version and flags, 4 bytes unused, then the type) is video."""
    at = track.find(b"hdlr")
    return at >= 0 and track[at + 12 : at + 16] == b"vide"

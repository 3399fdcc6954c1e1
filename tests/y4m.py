"""A clip as a Y4M file, the format Chromium's fake camera plays (--use-file-for-fake-video-capture)."""

from __future__ import annotations

from pathlib import Path

import cv2


def write_y4m(clip: Path, out: Path, size: tuple[int, int], fps: int = 30) -> int:
    """Every frame of ``clip`` scaled to ``size`` (width, height, both even), as YUV 4:2:0; the frame count."""
    w, h = size
    cap = cv2.VideoCapture(str(clip))
    n = 0
    with open(out, "wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        while True:
            ok, image = cap.read()
            if not ok:
                break
            yuv = cv2.cvtColor(cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2YUV_I420)
            f.write(b"FRAME\n" + yuv.tobytes())
            n += 1
    cap.release()
    return n

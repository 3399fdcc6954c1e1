"""An MP4 whose index is cut short in a track after the video's is read whole (realtime/mp4.py); one cut in the
video's own index is still refused with one line."""

from __future__ import annotations

import struct

import cv2
import numpy as np
import pytest

from realtime.capture import SourceError, VideoFile
from realtime.mp4 import boxes, complete_tracks

FRAMES = 12


def mp4_with_a_second_track(path) -> bytes:
    """A small OpenCV MP4 whose index gets a second, non-video track after the video's, as a phone's audio is (a
    copy of the video track's index with a sound handler: FFmpeg gives up on a file cut inside such a track)."""
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30, (64, 48))
    for i in range(FRAMES):
        out.write(np.full((48, 64, 3), 20 * i, np.uint8))
    out.release()
    data = path.read_bytes()
    kind, offset, header, end = list(boxes(data))[-1]
    assert kind == b"moov" and end == len(data)
    _, start, _, stop = next(b for b in boxes(data, offset + header) if b[0] == b"trak")
    audio = data[start:stop].replace(b"vide", b"soun")
    body = data[offset + header : end] + audio
    return data[:offset] + struct.pack(">I4s", 8 + len(body), b"moov") + body


def test_an_index_cut_in_a_later_track_is_read_whole(tmp_path, caplog):
    whole = mp4_with_a_second_track(tmp_path / "made.mp4")
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole[:-60])  # the copy stopped inside the second track's index
    assert not cv2.VideoCapture(str(cut)).read()[0], "OpenCV alone should not read it, or the test proves nothing"
    with VideoFile(cut, realtime=False) as video:
        images = [f.image for f in video]
    assert len(images) == FRAMES and video.frame_count == FRAMES
    assert "index is cut short" in caplog.text
    assert not list(tmp_path.glob("salvaged-*")), "the temporary copy is removed"


def test_an_index_cut_in_the_video_track_is_refused(tmp_path):
    whole = mp4_with_a_second_track(tmp_path / "made.mp4")
    kind, offset, header, _ = list(boxes(whole))[-1]
    video_track = next(o for k, o, _, _ in boxes(whole, offset + header) if k == b"trak")
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole[: video_track + 100])
    assert complete_tracks(cut.read_bytes()) is None
    with pytest.raises(SourceError, match="cannot read video"):
        VideoFile(cut, realtime=False)


def test_a_whole_file_or_one_cut_in_its_frames_is_left_alone(tmp_path):
    whole = mp4_with_a_second_track(tmp_path / "made.mp4")
    assert complete_tracks(whole) is None
    assert complete_tracks(whole[: len(whole) // 3]) is None  # the index is gone with the end of the file

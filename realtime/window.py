"""The window: shows each result as the overlay draws it, and acts on the keys a person presses."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import cv2

from realtime.overlay import Overlay, window_size
from realtime.recording import RecordingSwitch

if TYPE_CHECKING:
    from realtime.pipeline import FrameResult

log = logging.getLogger(__name__)
TITLE = "ASL letters"
ESC = 27
# key -> (action, what it does); also the README's key list
KEYS = {
    "q": ("quit", "quit (also Esc, or close the window)"),
    "l": ("landmarks", "hand landmarks"),
    "b": ("box", "crop box and per-frame guess"),
    "c": ("crop", "preview of the crop the model sees"),
    "p": ("bars", "probability bars"),
    "s": ("stats", "FPS and stage timings"),
    "h": ("help", "this key help"),
    "m": ("mirror", "mirror the view"),
    " ": ("pause", "pause / resume"),
    "r": ("record", "start / stop recording"),
    "n": ("snapshot", "save a snapshot of the window"),
}
HELP_LINE = "  ".join(f"{'space' if k == ' ' else k}:{a}" for k, (a, _) in KEYS.items())


class Window:
    """An OpenCV window sized to show the frame whole; keys toggle layers, pause, mirror, record and save
    snapshots. A sink: each result written is shown, and a key pressed is acted on; ``closed`` turns True
    when the person quits or closes the window."""

    def __init__(
        self, overlay: Overlay, frame_size: tuple[int, int], recording: RecordingSwitch, snapshots: Path
    ) -> None:
        self.overlay, self.recording, self.snapshots = overlay, recording, snapshots
        overlay.status.help_line = HELP_LINE
        cv2.namedWindow(TITLE, cv2.WINDOW_NORMAL | cv2.WINDOW_KEEPRATIO | cv2.WINDOW_GUI_NORMAL)
        cv2.resizeWindow(TITLE, *window_size(*frame_size))
        self.closed = False

    @property
    def paused(self) -> bool:
        return self.overlay.status.paused

    def notify(self, message: str) -> None:
        log.info(message)
        self.overlay.status.notify(message)

    def write(self, result: FrameResult) -> None:
        """Show the result and act on a key press, if there was one."""
        cv2.imshow(TITLE, self.overlay.render(result))
        key = cv2.waitKey(1)
        quit_key = key != -1 and not self.handle_key(key & 0xFF)
        self.closed = quit_key or cv2.getWindowProperty(TITLE, cv2.WND_PROP_VISIBLE) < 1

    def handle_key(self, key: int) -> bool:
        """Act on a key press; False means quit."""
        if key == ESC:
            return False
        action = KEYS.get(chr(key).lower(), (None,))[0] if 0 <= key < 256 else None
        status = self.overlay.status
        if action == "quit":
            return False
        if action in self.overlay.layers.as_dict():
            self.overlay.layers.toggle(action)
        elif action == "mirror":
            status.mirrored = not status.mirrored
        elif action == "pause":
            status.paused = not status.paused
        elif action == "record":
            self.recording.toggle()
        elif action == "snapshot" and self.overlay.last_view is not None:
            self.snapshots.mkdir(parents=True, exist_ok=True)
            path = self.snapshots / f"snapshot-{datetime.now():%Y%m%d-%H%M%S-%f}.png"
            cv2.imwrite(str(path), self.overlay.last_view)
            self.notify(f"snapshot saved: {path}")
        return True

    def close(self) -> None:
        cv2.destroyWindow(TITLE)

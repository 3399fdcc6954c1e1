"""The window: shows each result as the overlay draws it, and acts on the keys a person presses."""

from __future__ import annotations

import logging
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import cv2

from realtime.overlay import Overlay, window_size
from realtime.recording import RecordingSwitch

if TYPE_CHECKING:
    from realtime.pipeline import FrameResult
    from realtime.words import Transcript

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
    "\b": ("delete", "delete the last letter of the text"),
    "x": ("clear", "clear the text"),
    "y": ("copy", "copy the text to the clipboard"),
    "\t": ("accept", "replace the last word with the first suggestion"),
    "u": ("undo", "undo the dictionary's correction of the last word: its letters as read"),
}
KEY_NAMES = {" ": "space", "\b": "backspace", "\t": "tab"}
HELP_LINE = "  ".join(f"{KEY_NAMES.get(k, k)}:{a}" for k, (a, _) in KEYS.items())
DELETE = 127  # what some keyboards send for backspace


class Window:
    """An OpenCV window sized to show the frame whole; keys toggle layers, pause, mirror, record and save
    snapshots. A sink: each result written is shown, and a key pressed is acted on; ``closed`` turns True
    when the person quits or closes the window."""

    def __init__(
        self,
        overlay: Overlay,
        frame_size: tuple[int, int],
        recording: RecordingSwitch,
        snapshots: Path,
        transcript: Transcript | None = None,
    ) -> None:
        self.overlay, self.recording, self.snapshots = overlay, recording, snapshots
        self.transcript = transcript
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
        key = 8 if key == DELETE else key
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
        elif action in ("delete", "clear", "copy", "accept", "undo") and self.transcript is not None:
            self._edit(action, self.transcript)
        return True

    def _edit(self, action: str, transcript: Transcript) -> None:
        if action == "delete":
            transcript.delete_last()
        elif action == "clear":
            transcript.clear()
        elif action == "accept":
            word = transcript.accept()
            self.notify(f"replaced by {word}" if word else "no suggestion to accept")
        elif action == "undo":
            letters = transcript.undo_correction()
            self.notify(f"back to the letters read: {letters}" if letters else "no correction to undo")
        elif action == "copy":
            self.notify(copy_to_clipboard(transcript.text))

    def close(self) -> None:
        cv2.destroyWindow(TITLE)


# Clipboard commands, tried in order: Wayland, X11 (two), macOS, Windows.
CLIPBOARD_COMMANDS = (
    ["wl-copy"],
    ["xclip", "-selection", "clipboard"],
    ["xsel", "--clipboard", "--input"],
    ["pbcopy"],
    ["clip.exe"],
)


def copy_to_clipboard(text: str) -> str:
    """Put ``text`` on the system clipboard with the first clipboard command found; a message that says what
    happened (and, without a clipboard, where the text is kept instead)."""
    for cmd in CLIPBOARD_COMMANDS:
        if shutil.which(cmd[0]) is None:
            continue
        try:
            subprocess.run(cmd, input=text.encode(), check=True, timeout=2, capture_output=True)
        except (OSError, subprocess.SubprocessError):
            continue
        return f"copied: {text}" if text else "copied an empty text"
    return "no clipboard here (install xclip or wl-clipboard); --transcript FILE keeps the text"

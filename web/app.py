"""The recognizer as a web service: a live page over a WebSocket, and an HTTP API (``run.py --serve``).

One model is loaded once and shared read-only by every request; each live connection has its own tracker,
smoother and transcript (a ``realtime.pipeline.Pipeline``). Photos posted to ``/api/predict`` go through the
same hand finder and operating point as ``train.evaluate``, so they come back as the evaluation scores them;
live frames go through the window's pipeline. The page and its scripts are served from ``web/static``: no CDN.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import json
import logging
import re
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import cv2
import numpy as np
from fastapi import FastAPI, File, Request, UploadFile, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from core.errors import AslError
from model.classifier import LetterClassifier, Prediction
from realtime import LIVE_TRACK_MAX_SIDE
from realtime.capture import Frame, SourceError, VideoFile
from realtime.decode import WordDecoder
from realtime.pipeline import FrameResult, Pipeline, committable_letters
from realtime.smoothing import SmootherSettings
from realtime.suggest import Dictionary
from realtime.words import Transcript
from train.photos import PhotoHandFinder

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
TOP_PROBS = 5  # classes sent with each live frame


def package_version() -> str:
    """The installed package's version (pyproject.toml holds the one number), or "unknown" when run uninstalled."""
    try:
        return importlib.metadata.version("asl-fingerspelling")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True)
class Limits:
    """What one client may ask of the server."""

    upload_mb: float = 25.0  # a photo or a video posted to the API
    video_s: float = 60.0  # length of a video for /api/replay
    image_pixels: int = 40_000_000  # a decoded photo (a small file can unpack to a huge image)
    sessions: int = 4  # live connections and replays at once; more get "busy"
    frame_bytes: int = 1_500_000  # one live frame (a JPEG)
    frame_side: int = 1920  # a live frame's longer side
    fps: float = 30.0  # live frames a second a connection may send; faster ones are dropped


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def decode_image(data: bytes, max_pixels: int) -> np.ndarray:
    """A BGR image from an uploaded file's bytes; an ApiError for anything that is not a readable image."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) if data else None
    if image is None:
        raise ApiError(415, "not an image OpenCV can read: send a JPEG, PNG, BMP or WebP file")
    if image.shape[0] * image.shape[1] > max_pixels:
        raise ApiError(413, f"image too large: at most {max_pixels // 1_000_000} megapixels")
    return image


def prediction_json(p: Prediction | None) -> dict[str, Any]:
    if p is None:
        return {"letter": None, "confidence": None, "probs": {}, "hand": False}
    return {
        "letter": p.letter,
        "confidence": round(p.confidence, 4),
        "probs": {c: round(float(v), 4) for c, v in zip(p.classes, p.probs)},
        "hand": True,
    }


def frame_json(result: FrameResult, dropped: int) -> dict[str, Any]:
    """One live frame's answer: coordinates as fractions of the frame, so the page draws at any size."""
    h, w = result.frame.image.shape[:2]
    out: dict[str, Any] = {
        "frame": result.frame.index,
        "letter": result.letter,
        "confidence": round(result.letter_confidence, 3),
        "commits": [
            {"letter": e.letter, "t": round(e.t, 3), "replaces": e.replaces, "repeat": e.repeat, "top": dict(e.top)}
            for e in result.events
            if e.kind == "commit"
        ],
        "words": [{"word": w_.word, "letters": w_.letters, "corrected": w_.corrected} for w_ in result.words],
        "text": result.text,
        "correction": None
        if result.correction is None
        else {"letters": result.correction[0], "word": result.correction[1]},
        "suggestions": list(result.suggestions),
        "timings_ms": {k: round(v, 1) for k, v in result.timings_ms.items()},
        "dropped": dropped,
        "hand": None,
    }
    if result.hand is not None:
        p = result.hand.prediction
        top = np.argsort(-p.probs)[:TOP_PROBS]
        x0, y0, x1, y1 = result.hand.box.xyxy
        out["hand"] = {
            "landmarks": [[round(float(x) / w, 4), round(float(y) / h, 4)] for x, y, _ in result.hand.landmarks],
            "box": [round(x0 / w, 4), round(y0 / h, 4), round(x1 / w, 4), round(y1 / h, 4)],
            "guess": p.label,
            "guess_confidence": round(p.confidence, 3),
            "probs": [[p.classes[i], round(float(p.probs[i]), 3)] for i in top],
        }
    return out


class Seats:
    """At most ``n`` live sessions and replays at once."""

    def __init__(self, n: int) -> None:
        self.n, self.used = n, 0
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self.used >= self.n:
                return False
            self.used += 1
            return True

    def give_back(self) -> None:
        with self._lock:
            self.used -= 1


async def read_upload(upload: UploadFile, limit_mb: float) -> bytes:
    limit = int(limit_mb * 1_000_000)
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise ApiError(413, f"file too large: at most {limit_mb:g} MB")
    return data


def create_app(
    classifier: LetterClassifier, limits: Limits = Limits(), settings: SmootherSettings | None = None
) -> FastAPI:
    """The service for one loaded model. ``classifier`` is the live one (live operating point)."""
    settings = settings or SmootherSettings()
    letters = committable_letters(classifier)
    dictionary = Dictionary.english(letters)
    decoder = WordDecoder.english(letters)
    seats = Seats(limits.sessions)
    finder, finder_lock = PhotoHandFinder(), threading.Lock()  # a MediaPipe graph serves one photo at a time
    app = FastAPI(
        title="ASL fingerspelling recognizer",
        description="Letters from photos, videos and a live camera. The page: /. API docs: /docs.",
        version=package_version(),
    )

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"error": exc.message}, status_code=exc.status)

    @app.middleware("http")
    async def refuse_large_bodies(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        """A body announced larger than the cap is refused before it is read."""
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > limits.upload_mb * 1_000_000 + 100_000:
            return JSONResponse({"error": f"file too large: at most {limits.upload_mb:g} MB"}, status_code=413)
        return await call_next(request)

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "classes": list(classifier.classes),
            "letters": letters,
            "sessions": seats.used,
            "max_sessions": seats.n,
        }

    @app.post("/api/predict")
    async def predict(image: Annotated[UploadFile, File(description="a photo of one hand signing a letter")]) -> dict:
        """The letter in a photo, as ``train.evaluate`` reads it: ``letter`` is null for no hand or no letter."""
        bgr = decode_image(await read_upload(image, limits.upload_mb), limits.image_pixels)

        def work() -> Prediction | None:
            with finder_lock:
                hand = finder.find(bgr)
            if hand is None:
                return None
            return classifier.predict([classifier.prepare(bgr, hand.landmarks)], classifier.photo_offset)[0]

        return prediction_json(await asyncio.to_thread(work))

    @app.post("/api/replay")
    async def replay(video: Annotated[UploadFile, File(description="a video of fingerspelling")]) -> dict:
        """The letters and words a video spells, as ``run.py --video F --no-window`` finds them."""
        data = await read_upload(video, limits.upload_mb)
        if not seats.take():
            raise ApiError(503, "busy: every seat is taken, try again in a moment")
        try:
            with tempfile.TemporaryDirectory() as tmp:
                suffix = Path(video.filename or "").suffix.lower()  # only as a hint of the container
                path = Path(tmp) / ("upload" + (suffix if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix) else ".bin"))
                path.write_bytes(data)
                return await asyncio.to_thread(replay_file, path)
        finally:
            seats.give_back()

    def replay_file(path: Path) -> dict:
        try:
            source = VideoFile(path, realtime=False)
        except SourceError:
            raise ApiError(415, "not a video OpenCV can read: send an MP4, AVI, MOV or WebM file") from None
        with source:
            if source.frame_count > limits.video_s * source.fps:
                raise ApiError(413, f"video too long: at most {limits.video_s:g} s")
            transcript = Transcript(decode=decoder.decode)
            commits = []
            with Pipeline(classifier, settings, transcript=transcript) as pipeline:
                try:
                    for frame in source:
                        if frame.index > limits.video_s * source.fps:
                            raise ApiError(413, f"video too long: at most {limits.video_s:g} s")
                        result = pipeline.process(frame)
                        commits += [
                            {
                                "letter": e.letter,
                                "t": round(e.t, 3),
                                "frame": frame.index,
                                "replaces": e.replaces,
                                "top": dict(e.top),
                            }
                            for e in result.events
                            if e.kind == "commit"
                        ]
                except AslError as e:
                    raise ApiError(422, f"the video could not be read to its end: {e}") from None
                transcript.finish(frame.index / source.fps if commits else 0.0)
            return {"frames": source.frame_count, "fps": source.fps, "commits": commits, "text": transcript.text}

    @app.websocket("/ws")
    async def live(ws: WebSocket) -> None:
        await ws.accept()
        if not seats.take():
            await ws.send_json({"error": "busy", "message": f"the server is busy ({seats.n} live sessions): try later"})
            await ws.close(code=1013)
            return
        try:
            await LiveSession(ws, classifier, settings, dictionary, decoder, limits).run()
        finally:
            seats.give_back()

    app.mount("/", StaticFiles(directory=STATIC, html=True), name="page")
    app.state.close = finder.close
    return app


class LiveSession:
    """One browser's camera: frames in as JPEG, one answer out per frame processed. A reader keeps only the
    newest frame that arrived while the last one was processed (or while the rate cap held it back), so a client
    that sends too fast has frames dropped (counted in each answer), never queued; a client that waits for each
    answer before it sends again (the page) always gets one. Text messages edit the transcript: ``{"action": "delete" |
    "clear" | "accept"}``."""

    def __init__(
        self,
        ws: WebSocket,
        classifier: LetterClassifier,
        settings: SmootherSettings,
        dictionary: Dictionary,
        decoder: WordDecoder,
        limits: Limits,
    ) -> None:
        self.ws, self.limits = ws, limits
        self.transcript = Transcript(suggest=dictionary.suggest, decode=decoder.decode)
        self.pipeline = Pipeline(classifier, settings, track_max_side=LIVE_TRACK_MAX_SIDE, transcript=self.transcript)
        self._latest: bytes | None = None
        self._ready = asyncio.Event()
        self._dropped = 0
        self._start = time.perf_counter()
        self._last_taken = -1.0
        self._index = 0

    async def run(self) -> None:
        reader = asyncio.create_task(self._read())
        try:
            while not reader.done():
                waiter = asyncio.create_task(self._ready.wait())
                await asyncio.wait({reader, waiter}, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                if self._latest is not None:
                    await asyncio.sleep(max(0.0, self._last_taken + 1 / self.limits.fps - time.perf_counter()))
                    data, self._latest = self._latest, None  # the newest, if more came while waiting
                    self._ready.clear()
                    self._last_taken = time.perf_counter()
                    await self._answer(data)
        except WebSocketDisconnect:
            pass
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
                await reader
            await asyncio.to_thread(self.pipeline.close)

    async def _read(self) -> None:
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("bytes") is not None:
                if self._latest is not None:
                    self._dropped += 1  # the server has not caught up, or the rate cap holds it: the newer replaces it
                self._latest = message["bytes"]
                self._ready.set()
            elif message.get("text") is not None:
                self._edit(message["text"])

    def _edit(self, text: str) -> None:
        try:
            action = json.loads(text).get("action")
        except (ValueError, AttributeError):
            return  # not an edit: ignored
        if action == "delete":
            self.transcript.delete_last()
        elif action == "clear":
            self.transcript.clear()
        elif action == "accept":
            self.transcript.accept()
        elif action == "undo":
            self.transcript.undo_correction()

    async def _answer(self, data: bytes) -> None:
        if len(data) > self.limits.frame_bytes:
            await self.ws.send_json({"error": f"frame too large: at most {self.limits.frame_bytes // 1000} kB"})
            return
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            await self.ws.send_json({"error": "a frame that is not a JPEG or PNG image"})
            return
        side = max(image.shape[:2])
        if side > self.limits.frame_side:
            scale = self.limits.frame_side / side
            image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        now = time.perf_counter()
        frame = Frame(image, self._index, now - self._start, now)
        self._index += 1
        result = await asyncio.to_thread(self.pipeline.process, frame)
        await self.ws.send_json(frame_json(result, self._dropped))

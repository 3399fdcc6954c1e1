"""The recognizer as a web service: a live page over a WebSocket, and an HTTP API (``run.py --serve``).

One model is loaded once and shared read-only by every request; each live connection has its own tracker,
smoother and transcript (a ``realtime.pipeline.Pipeline``). Photos posted to ``/api/predict`` go through the
same hand finder and operating point as ``train.evaluate``, so they come back as the evaluation scores them;
live frames go through the window's pipeline. The page and its scripts are served from ``web/static``: no CDN.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import functools
import gc
import importlib.metadata
import inspect
import json
import logging
import os
import random
import socket
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from fastapi import FastAPI, File, Request, UploadFile, WebSocket, WebSocketDisconnect
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.errors import AslError
from core.images import ImageError, decode_image
from core.landmarks import CONNECTIONS, FINGERS
from core.letters import DIFFERENCES, HANDSHAPES
from model.classifier import LetterClassifier, Prediction
from realtime import LIVE_TRACK_MAX_SIDE
from realtime.capture import CONTAINERS, Frame, SourceError, VideoFile, VideoTooLarge, video_container
from realtime.decode import WordDecoder
from realtime.photos import PhotoHandFinder
from realtime.pipeline import FrameResult, Pipeline, committable_letters, reader_for
from realtime.smoothing import SmootherSettings
from realtime.suggest import Dictionary
from realtime.words import WORD_GAP_S, Transcript
from web.calibration import PageCalibration

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
SHAPES = STATIC / "handshapes.json"  # each letter's hand drawing (python -m train.handshapes)
# Practice levels: word lengths, and how many of the most frequent words they are drawn from.
LEVELS = {"letters": (range(1, 2), 0), "short": (range(3, 5), 3000), "long": (range(5, 8), 8000)}
TOP_PROBS = 5  # classes sent with each live frame


def package_version() -> str:
    """The installed package's version (pyproject.toml holds the one number), or "unknown" when run uninstalled."""
    try:
        return importlib.metadata.version("asl-fingerspelling")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True)
class Limits:
    """What one client may ask of the server. Every request's work is bounded by these (README, "Limits")."""

    upload_mb: float = 25.0  # a photo or a video posted to the API, counted as it streams in
    image_pixels: int = 40_000_000  # a photo, from its header before it is decoded
    photos: int = 4  # photos being read at once; more get "busy"
    video_s: float = 60.0  # a replayed video's length, by its frame rate
    video_frames: int = 3600  # frames decoded from one video (60 s at 60 fps), whatever its header says
    video_pixels: int = 3840 * 2160  # one frame of a replayed video
    replay_s: float = 120.0  # wall time one replay may take
    replays: int = 2  # replays at once, each also taking a seat, so live pages always find one
    sessions: int = 4  # live connections and replays at once; more get "busy"
    frame_bytes: int = 1_500_000  # one live frame (a JPEG)
    frame_side: int = 1920  # a live frame's longer side, from its header
    fps: float = 30.0  # live frames a second a connection may send; faster ones are dropped
    edit_chars: int = 50_000  # a text message on the socket (an edit, the text or the calibration a page restores)
    calibration_shots: int = 156  # shots one page may take to calibrate (26 letters, 6 each)
    requests: int = 100  # HTTP requests answered at once (RequestLimit)
    idle_s: float = 60.0  # a live session that sends nothing this long is closed (its seat freed)
    origins: tuple[str, ...] = ()  # web page origins besides the server's own that may open live sessions

    @property
    def body_bytes(self) -> int:
        return int(self.upload_mb * 1_000_000) + 100_000  # the file and its multipart wrapping


@dataclass(frozen=True)
class SessionOptions:
    """How every live session and replay reads letters and words (``run.py --serve`` passes its flags here)."""

    settings: SmootherSettings = field(default_factory=SmootherSettings)
    prefer: str | None = None  # MediaPipe handedness to prefer with two hands in view
    track_max_side: int | None = LIVE_TRACK_MAX_SIDE
    word_gap_s: float = WORD_GAP_S
    suggestions: bool = True
    autocorrect: bool = True
    track_lite: bool = False  # MediaPipe's lighter landmark model


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


POLICY = (
    b"default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
    b"script-src 'self' 'unsafe-inline'; worker-src 'self' blob:; media-src 'self' blob: mediastream:; "
    b"connect-src 'self'"
)


class SameOriginOnly:
    """ASGI middleware: every page is told to load nothing from another host (Redoc's script would fetch its logo
    from a CDN). Plain ASGI, not ``BaseHTTPMiddleware``, which hides a client's leaving from a running replay."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"content-security-policy"]
                message = {**message, "headers": [*headers, (b"content-security-policy", POLICY)]}
            await send(message)

        await self.app(scope, receive, with_policy)


class RequestLimit:
    """ASGI middleware: at most ``limit`` HTTP requests being answered at once, the rest a 503 (``/health``
    always answers). Requests, not connections, are counted: idle connections cost the server nothing but a
    socket, and ``web.serve`` closes those that send no request. Each request may hold an upload of up to 25 MB
    spooled to disk while it is parsed, so this bounds the disk a crowd of uploads can fill (2.5 GB at 100)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit, self.running = app, limit, 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == "/health":
            await self.app(scope, receive, send)
            return
        if self.running >= self.limit:
            text = f"busy: {self.limit} requests at once already, try again in a moment"
            await send_error(send, 503, text, [(b"retry-after", b"1")])
            return
        self.running += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.running -= 1


class BodyLimit:
    """ASGI middleware: a request body over ``limit`` bytes is refused with a 413, announced or not. One whose
    Content-Length says so is refused before a byte is read; a chunked one is counted as it streams, and the
    read that crosses the limit fails, so no more than the limit is ever handed on (to memory or to the upload
    spool on disk)."""

    class TooLarge(Exception):
        pass

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await self._refuse(send, 413 if length.isdigit() else 400)
            return
        received, too_large, started = 0, False, False

        async def counted() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    too_large = True
                    raise self.TooLarge
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if too_large:
                return  # the app's answer to the failed read: the 413 below is sent instead
            started = True
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            if not too_large:
                raise
        if too_large and not started:
            await self._refuse(send, 413)

    async def _refuse(self, send: Send, status: int) -> None:
        text = f"file too large: at most {self.limit / 1_000_000:.0f} MB" if status == 413 else "a bad Content-Length"
        await send_error(send, status, text, [(b"connection", b"close")])


async def send_error(send: Send, status: int, text: str, headers: list[tuple[bytes, bytes]]) -> None:
    """An ``{"error": text}`` answer from a middleware, before the app has seen the request."""
    body = json.dumps({"error": text}).encode()
    base = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": [*base, *headers]})
    await send({"type": "http.response.body", "body": body})


def prediction_json(p: Prediction | None, min_confidence: float) -> dict[str, Any]:
    """A photo's answer. ``guess`` is the top class as ``train.evaluate`` scores it; ``letter`` is that letter
    only when the model is as sure as the live recognizer must be to commit one (``min_confidence``), else
    null, with ``reason`` saying why in words a person can act on."""
    if p is None:
        no_hand = "no hand found in the photo: show one hand, whole, in good light"
        return {"letter": None, "guess": None, "confidence": None, "probs": {}, "hand": False, "reason": no_hand}
    letter: str | None = p.letter
    reason: str | None = None
    if letter is None:
        reason = f"the model sees a hand but no letter ({p.label} {p.confidence:.0%})"
    elif p.confidence < min_confidence:
        letter = None
        reason = f"unsure: {p.label} at {p.confidence:.0%}, below the {min_confidence:.0%} a letter needs"
    return {
        "letter": letter,
        "guess": p.label,
        "confidence": round(p.confidence, 4),
        "probs": {c: round(float(v), 4) for c, v in zip(p.classes, p.probs)},
        "hand": True,
        "reason": reason,
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
        "spelling": result.spelling,
        "correction": None
        if result.correction is None
        else {"letters": result.correction[0], "word": result.correction[1]},
        "suggestions": list(result.suggestions),
        "suggestions_for": result.suggestions_for,
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
    """At most ``n`` at once (live sessions and replays, or photos being read)."""

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

    @contextlib.contextmanager
    def seat(self, what: str) -> Iterator[None]:
        """One seat for the block, or a 503 when all are taken."""
        if not self.take():
            raise ApiError(503, f"busy: {self.n} {what} at once already, try again in a moment")
        try:
            yield
        finally:
            self.give_back()


async def read_upload(upload: UploadFile, limit_mb: float) -> bytes:
    limit = int(limit_mb * 1_000_000)
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise ApiError(413, f"file too large: at most {limit_mb:g} MB")
    return data


class ReplayStopped(Exception):
    """The client left, or the server is stopping: a replay's work ends at its next frame."""


def create_app(
    classifier: LetterClassifier, limits: Limits = Limits(), options: SessionOptions = SessionOptions()
) -> FastAPI:
    """The service for one loaded model. ``classifier`` is the live one (live operating point).

    ``app.state.stop()`` tells running replays to end (the server is stopping); ``app.state.close()`` frees the
    photo hand finder once the server has stopped."""
    letters = committable_letters(classifier)
    words = Dictionary.english(letters)
    dictionary = words if options.suggestions else None
    shapes = json.loads(SHAPES.read_text()) if SHAPES.is_file() else {}
    decoder = WordDecoder.english(letters) if options.autocorrect else None
    seats, replays, photos = Seats(limits.sessions), Seats(limits.replays), Seats(limits.photos)
    finder, finder_lock = PhotoHandFinder(), threading.Lock()  # a MediaPipe graph serves one photo at a time
    stopping = threading.Event()
    server_id = f"{socket.gethostname()}:{os.getpid()}"  # which process answers, behind a load balancer
    personal_models: dict[str, bytes] = {}  # download name -> a page's personal checkpoint, while the page lives
    calibrating = threading.Lock()  # one head fine-tuned at a time, server-wide

    def pipeline() -> Pipeline:
        words = Transcript(
            reader_for(classifier.classes),
            options.word_gap_s,
            dictionary.suggest if dictionary else None,
            decoder.decode if decoder else None,
        )
        return Pipeline(
            classifier,
            options.settings,
            options.prefer,
            track_max_side=options.track_max_side,
            transcript=words,
            track_lite=options.track_lite,
        )

    app = FastAPIOffline(  # /docs and /redoc with their scripts served from the package, not a CDN
        title="ASL fingerspelling recognizer",
        description="Letters from photos, videos and a live camera. The page: /. API docs: /docs.",
        version=package_version(),
    )
    app.add_middleware(BodyLimit, limit=limits.body_bytes)
    app.add_middleware(RequestLimit, limit=limits.requests)
    app.add_middleware(SameOriginOnly)

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"error": exc.message}, status_code=exc.status)

    @app.exception_handler(ImageError)
    async def image_error(_: Request, exc: ImageError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=exc.status)

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        return JSONResponse({"error": f"{where or 'request'}: {first.get('msg', 'invalid')}"}, status_code=422)

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "server": server_id,
            "classes": list(classifier.classes),
            "letters": letters,
            "sessions": seats.used,
            "max_sessions": seats.n,
        }

    @app.get("/api/letters")
    def letter_chart() -> dict[str, Any]:
        """Every letter the model knows: its handshape in words; ``shapes``, a drawing of it (MediaPipe's 21
        landmarks of a right hand, palm to the camera, wrist at 0, one hand size long; J and Z are drawn at the
        start of their movement); ``differences``, what tells a letter from one it is mistaken for (key: the
        letter meant, then the one read)."""
        return {
            "letters": letters,
            "handshapes": {c: HANDSHAPES[c] for c in letters},
            "shapes": {c: shapes[c] for c in letters if c in shapes},
            "differences": {a + b: text for (a, b), text in DIFFERENCES.items() if a in letters and b in letters},
            "bones": CONNECTIONS,
            "fingers": FINGERS,
        }

    @app.get("/api/practice")
    def practice_words(level: str = "short", n: int = 5) -> dict[str, Any]:
        """``n`` (1-20) words to practise at ``level``: ``letters`` (single letters), ``short`` (3-4 letters)
        or ``long`` (5-7), drawn at random from the most frequent English words the model can spell."""
        if level not in LEVELS or not 1 <= n <= 20:
            raise ApiError(422, f"level is one of {', '.join(LEVELS)} and n is 1 to 20")
        lengths, within = LEVELS[level]
        pool = list(letters) if level == "letters" else words.common(lengths, within)
        return {"level": level, "words": random.sample(pool, min(n, len(pool)))}

    @app.get("/api/personal/{name}")
    def personal_model(name: str) -> Response:
        """The personal checkpoint a page's calibration made, under the name only that page was told; it is
        kept while the page is open (``run.py --model personal.pt`` then uses it on the desktop)."""
        data = personal_models.get(name)
        if data is None:
            raise ApiError(404, "no such personal model: it is kept only while the page that made it is open")
        headers = {"Content-Disposition": 'attachment; filename="personal.pt"'}
        return Response(data, media_type="application/octet-stream", headers=headers)

    @app.post("/api/predict")
    async def predict(image: Annotated[UploadFile, File(description="a photo of one hand signing a letter")]) -> dict:
        """The letter in a photo. ``guess``: the top class as ``train.evaluate`` reads it; ``letter``: that letter
        when the model is sure enough to commit it live (``reason`` says why not: no hand, no letter, unsure)."""
        with photos.seat("photos"):
            data = await read_upload(image, limits.upload_mb)

            def work() -> Prediction | None:
                bgr = decode_image(data, limits.image_pixels)
                with finder_lock:
                    hand = finder.find(bgr)
                if hand is None:
                    return None
                return classifier.predict([classifier.prepare(bgr, hand.landmarks)], classifier.photo_offset)[0]

            return prediction_json(await asyncio.to_thread(work), options.settings.steady_enter)

    @app.post("/api/replay")
    async def replay(
        request: Request, video: Annotated[UploadFile, File(description="a video of fingerspelling")]
    ) -> dict:
        """The letters and words a video spells, as ``run.py --video F --no-window`` finds them."""
        with seats.seat("live sessions and replays"), replays.seat("replays"), tempfile.TemporaryDirectory() as tmp:
            data = await read_upload(video, limits.upload_mb)
            container = video_container(data[:12])
            if container is None:
                raise ApiError(415, f"not a video this server reads: send an {CONTAINERS} file")
            path = Path(tmp) / f"upload.{container}"  # named by what it holds, never by the client
            await asyncio.to_thread(path.write_bytes, data)
            stop = threading.Event()
            work = asyncio.ensure_future(asyncio.to_thread(replay_file, path, stop))
            try:
                while not work.done():
                    await asyncio.wait({work}, timeout=0.25)
                    if not work.done() and (stopping.is_set() or await request.is_disconnected()):
                        stop.set()
                try:
                    return work.result()
                except ReplayStopped:
                    raise ApiError(503, "the replay was stopped: the server is stopping") from None
            finally:
                stop.set()  # also when this request is cancelled: the thread ends at its next frame

    def replay_file(path: Path, stop: threading.Event) -> dict:
        try:
            source = VideoFile(path, realtime=False, max_pixels=limits.video_pixels)
        except VideoTooLarge as e:
            raise ApiError(413, str(e)) from None
        except SourceError:
            raise ApiError(415, f"not a video this server can read: send an {CONTAINERS} file") from None
        with source:
            too_long = ApiError(413, f"video too long: at most {limits.video_s:g} s or {limits.video_frames} frames")
            if source.frame_count > min(limits.video_frames, limits.video_s * source.fps):
                raise too_long
            deadline = time.monotonic() + limits.replay_s
            commits = []
            frames = 0
            with pipeline() as p:
                try:
                    for frame in source:
                        if stop.is_set():
                            raise ReplayStopped
                        if frame.index >= limits.video_frames or frame.t > limits.video_s:
                            raise too_long
                        if time.monotonic() > deadline:
                            raise ApiError(413, f"the video takes more than {limits.replay_s:g} s to read: send less")
                        result = p.process(frame)
                        frames += 1
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
                except AslError:
                    raise ApiError(422, "the video ends before the frames its header announces (cut short?)") from None
                p.transcript.finish(frames / source.fps)
                text = p.transcript.text
            return {"frames": frames, "fps": source.fps, "commits": commits, "text": text}

    @app.websocket("/ws")
    async def live(ws: WebSocket) -> None:
        if not allowed_origin(ws.headers.get("origin"), ws.headers.get("host"), limits.origins):
            await ws.close(code=1008)  # before accepting: the foreign page's browser sees a 403
            return
        await ws.accept(headers=[(b"x-asl-server", server_id.encode())])
        if not seats.take():
            await ws.send_json({"error": "busy", "message": f"the server is busy ({seats.n} live sessions): try later"})
            await ws.close(code=1013)
            return
        try:
            calibration = PageCalibration(classifier, personal_models, calibrating, limits.calibration_shots)
            await LiveSession(ws, pipeline(), limits, calibration).run()
        finally:
            seats.give_back()

    app.mount("/", StaticFiles(directory=STATIC, html=True), name="page")
    app.state.stop = stopping.set
    app.state.close = finder.close
    return app


MAX_NOTES = 32  # text messages waiting for the next frame's turn; more are ignored
IDLE_CLOSE = 4408  # close code of a live session that sent nothing for Limits.idle_s (the page reconnects)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to hand back this way
        return None


def release_memory() -> None:
    """Hand the memory a page freed back to the system: glibc keeps freed blocks in per-thread arenas, and a
    server whose pages calibrated grew by about half a gigabyte a round without it (docs/RESULTS.md)."""
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def allowed_origin(origin: str | None, host: str | None, allowed: tuple[str, ...]) -> bool:
    """A live session may be opened by the server's own page (its Origin names the host the request was sent
    to), by a page of an origin ``allowed`` (``--allow-origin``), or by a program that sends no Origin (browsers
    always send one): another website's page cannot take the seats or calibrate on a visitor's camera."""
    if origin is None:
        return True
    if origin in allowed:
        return True
    parts = urllib.parse.urlsplit(origin)
    return parts.scheme in ("http", "https") and host is not None and parts.netloc.lower() == host.lower()


class LiveSession:
    """One browser's camera: frames in as JPEG, one answer out per frame processed. A reader keeps only the
    newest frame that arrived while the last one was processed (or while the rate cap held it back), so a client
    that sends too fast has frames dropped (counted in each answer), never queued; a client that waits for each
    answer before it sends again (the page) always gets one. Text messages are actions (:data:`EDITS`): edits
    of the transcript (accept may name the suggestion, ``"word"``; restore gives a new session the text a page
    kept, ``"text"``) and calibration (``web.calibration``). Whatever else arrives (an empty, oversized, odd or
    undecodable message) gets an ``{"error": ...}`` answer and the session goes on. Actions and answers are
    applied and sent by one task, between frames, so the transcript is never edited while a frame is read."""

    def __init__(self, ws: WebSocket, pipeline: Pipeline, limits: Limits, calibration: PageCalibration) -> None:
        self.ws, self.limits, self.pipeline, self.calibration = ws, limits, pipeline, calibration
        self._latest: bytes | None = None
        self._notes: list[str | Callable[[], object]] = []  # error answers and actions, in order
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
                self._ready.clear()
                notes, self._notes = self._notes, []
                for note in notes:
                    done = note if isinstance(note, str) else note()
                    if inspect.isawaitable(done):
                        done = await done
                    if isinstance(done, str):  # an error, or an action's own answer that it was refused
                        await self.ws.send_json({"error": done})
                if self._latest is not None:
                    await asyncio.sleep(max(0.0, self._last_taken + 1 / self.limits.fps - time.perf_counter()))
                    data, self._latest = self._latest, None  # the newest, if more came while waiting
                    self._last_taken = time.perf_counter()
                    await self._answer(data)
                if self._latest is not None or self._notes:
                    self._ready.set()
        except WebSocketDisconnect:
            pass
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
                await reader
            self.calibration.close()
            await asyncio.to_thread(self.pipeline.close)
            self.calibration = self.pipeline = None  # type: ignore[assignment]  # the page's state goes with it
            release_memory()

    async def _read(self) -> None:
        while True:
            try:
                message = await asyncio.wait_for(self.ws.receive(), self.limits.idle_s)
            except asyncio.TimeoutError:
                await self.ws.close(code=IDLE_CLOSE, reason=f"nothing sent for {self.limits.idle_s:g} s")
                return
            if message["type"] == "websocket.disconnect":
                return
            if message.get("bytes") is not None:
                if self._latest is not None:
                    self._dropped += 1  # the server has not caught up, or the rate cap holds it: the newer replaces it
                self._latest = message["bytes"]
            elif message.get("text") is not None and len(self._notes) < MAX_NOTES:  # a flood is not queued
                self._notes.append(self._edit(message["text"]))
            self._ready.set()

    def _edit(self, text: str) -> str | Callable[[], object]:
        """The action a text message asks for, or the error to answer it with."""
        usage = f'a text message is an edit, {{"action": "{"|".join(EDITS)}"}}'
        if len(text) > self.limits.edit_chars:
            return f"text message too long: {usage}"
        try:
            message = json.loads(text)
        except (ValueError, RecursionError):
            return f"not JSON: {usage}"
        action = message.get("action") if isinstance(message, dict) else None
        edit = EDITS.get(action) if isinstance(action, str) else None
        if edit is None:
            return f"unknown edit: {usage}"
        return lambda: edit(self, message)

    async def _answer(self, data: bytes) -> None:
        if len(data) > self.limits.frame_bytes:
            await self.ws.send_json({"error": f"frame too large: at most {self.limits.frame_bytes // 1000} kB"})
            return
        now = time.perf_counter()
        try:
            result = await asyncio.to_thread(self._process, data, now)
        except ImageError as e:
            await self.ws.send_json({"error": f"a frame that cannot be read: {e}"})
            return
        answer = frame_json(result, self._dropped)
        answer["calibration"] = self.calibration.status()
        await self.ws.send_json(answer)

    def _process(self, data: bytes, now: float) -> FrameResult:
        side = self.limits.frame_side
        image = decode_image(data, side * side, side)
        frame = Frame(image, self._index, now - self._start, now)
        self._index += 1
        self.pipeline.typing = not self.calibration.active
        result = self.pipeline.process(frame)
        self.calibration.offer(image, result.hand.found if result.hand else None, frame.t)
        return result


Edit = Callable[["LiveSession", dict[str, Any]], object]


def _accept(session: LiveSession, message: dict[str, Any]) -> object:
    word = message.get("word")
    return session.pipeline.transcript.accept(word if isinstance(word, str) and len(word) <= 40 else None)


def _restore(session: LiveSession, message: dict[str, Any]) -> object:
    text = message.get("text")
    return isinstance(text, str) and session.pipeline.transcript.restore(text)


async def _calibrated(session: LiveSession, _: dict[str, Any]) -> None:
    personal = await asyncio.to_thread(session.calibration.finish)
    if personal is not None:
        session.pipeline.use(personal)


def _restore_calibration(session: LiveSession, message: dict[str, Any]) -> str | None:
    error = session.calibration.restore(message)
    session.pipeline.use(session.calibration.current)
    return error


def _reset_calibration(session: LiveSession, _: dict[str, Any]) -> None:
    session.calibration.reset()
    session.pipeline.use(session.calibration.current)


EDITS: dict[str, Edit] = {
    "delete": lambda s, _: s.pipeline.transcript.delete_last(),
    "clear": lambda s, _: s.pipeline.transcript.clear(),
    "accept": _accept,  # {"action": "accept"}: the first suggestion; with "word": that one (a tap)
    "undo": lambda s, _: s.pipeline.transcript.undo_correction(),
    "restore": _restore,  # {"action": "restore", "text": ...}: a new session starts from the page's kept text
    "calibrate_begin": lambda s, _: s.calibration.begin(),  # the page's countdown starts: frames type nothing
    "calibrate": lambda s, m: s.calibration.start(m),  # {"letter": "B", "shots": 5}: the next frames are shots
    "calibrate_stop": lambda s, _: s.calibration.stop(),  # the shots are dropped, typing goes on
    "calibrate_done": _calibrated,  # calibrate on the shots; the page reads with its personal model from then on
    "calibration_restore": _restore_calibration,  # {"model": ..., "letters": {...}}: what the page kept
    "calibration_reset": _reset_calibration,  # back to the shared model
}

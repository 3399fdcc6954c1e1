"""asl serve (or run.py --serve): the recognizer's web page and API on this machine.

Open http://127.0.0.1:8000 in a browser for the live page; http://127.0.0.1:8000/docs for the API. It listens
on this machine only unless --host says otherwise (--host 0.0.0.0 for the local network: a phone's browser
gives a page its camera only over https or on localhost, so put it behind an https proxy for phones).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import socket
import sys
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from core.cli import number, setup_logging
from core.errors import EXIT_OK, UsageError, cli_main
from model import DEVICE_CHOICES, SHIPPED_CHECKPOINT, model_path

if TYPE_CHECKING:
    from web.app import SessionOptions

log = logging.getLogger("web.serve")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
GRACE_S = 3  # seconds a stopping server waits for running requests before it cancels them
REQUEST_HEAD_S = 10  # a connection that has not sent a whole request head by then is closed
WS_MAX_BYTES = 16 * 2**20  # a WebSocket message larger closes the connection (1009); smaller ones get an answer


def add_serve_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("serving (--serve)")
    g.add_argument("--host", default="127.0.0.1", help="address to listen on (default: this machine only)")
    g.add_argument("--port", type=number(1, 65535, integer=True), default=8000, help="port [8000]")
    g.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="URL",
        help="a web page origin besides the server's own whose pages may open live sessions (repeatable), "
        "e.g. https://example.org",
    )
    g.add_argument(
        "--max-sessions",
        type=number(1, 256, integer=True),
        default=4,
        help="live pages and replays served at once; more are told the server is busy [4]",
    )


def listening_socket(host: str, port: int) -> socket.socket:
    """The server's socket, bound here the way uvicorn binds its own (``SO_REUSEADDR``, so a restart right after
    a stop is not refused while the old connections wait out TCP's TIME_WAIT) and before the model loads, so a
    port in use is one line and exit 2 at once. uvicorn is handed this very socket: nothing can take the port
    between the check and the serving."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
    except OSError as e:
        raise UsageError(f"cannot listen on {host}:{port}: {e.strerror or e} (check --host)") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as e:
        sock.close()
        raise UsageError(
            f"cannot listen on {host}:{port}: {e.strerror or e} (another server? try another --port)"
        ) from None
    return sock


def head_timed_protocol() -> type:
    """uvicorn's HTTP protocol, closing a connection that has not sent a whole request head within
    :data:`REQUEST_HEAD_S` of opening (or of its last answer): idle sockets and a byte a second would otherwise be
    held for ever. Connections are not counted against a limit (``web.app.Limits.requests`` counts requests), so
    idle ones cannot make the page or ``/health`` answer 503."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeadTimed(H11Protocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._timer.cancel()
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._timer.cancel()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._waiting_after = self.cycle  # None, or the request last answered
            self._timer = self.loop.call_later(REQUEST_HEAD_S, self._drop_if_headless)

        def _drop_if_headless(self) -> None:
            upgraded = self.transport.get_protocol() is not self  # a WebSocket now: web.app times those out
            if not upgraded and not self.transport.is_closing() and self.cycle is self._waiting_after:
                self.transport.close()  # no new request head: nothing sent, or one arriving a byte at a time

    return HeadTimed


def serve(
    model: Path,
    device: str,
    host: str,
    port: int,
    max_sessions: int,
    no_letter_offset: float | None = None,
    options: SessionOptions | None = None,
    origins: tuple[str, ...] = (),
) -> int:
    """Serve until Ctrl-C or SIGTERM: then running replays stop at their next frame, live pages are told the
    server is going, and whatever is still running after :data:`GRACE_S` is cancelled."""
    import uvicorn

    from model.classifier import LetterClassifier
    from realtime.live import share_cores
    from realtime.smoothing import LIVE_NO_LETTER_OFFSET
    from web.app import Limits, SessionOptions, create_app

    sock = listening_socket(host, port)
    if host not in LOCAL_HOSTS:
        log.warning("listening on %s: anyone who can reach this machine can use the recognizer", host)
    share_cores()
    offset = LIVE_NO_LETTER_OFFSET if no_letter_offset is None else no_letter_offset
    classifier = LetterClassifier(model, device, offset)
    app = create_app(classifier, Limits(sessions=max_sessions, origins=origins), options or SessionOptions())

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            app.state.stop()  # before uvicorn waits for running requests: replays end at their next frame
            super().handle_exit(sig, frame)

    config = uvicorn.Config(
        app,
        log_level="warning",
        timeout_graceful_shutdown=GRACE_S,
        ws_max_size=WS_MAX_BYTES,
        ws_max_queue=4,
        http=head_timed_protocol(),
    )
    log.info("the page: http://%s:%d/  the API: http://%s:%d/docs", host, port, host, port)
    try:
        with sock:
            Server(config).run(sockets=[sock])
    finally:
        app.state.close()
    return EXIT_OK


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    p = argparse.ArgumentParser(
        prog=prog or "python -m web.serve", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--model", type=model_path, default=SHIPPED_CHECKPOINT, help="checkpoint (default: shipped model)")
    p.add_argument("--device", default="auto", choices=DEVICE_CHOICES)
    add_serve_flags(p)
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)
    setup_logging(args.verbose, from_command_line=argv is None)
    origins = tuple(args.allow_origin)
    return cli_main(lambda: serve(args.model, args.device, args.host, args.port, args.max_sessions, origins=origins))


if __name__ == "__main__":
    sys.exit(main())

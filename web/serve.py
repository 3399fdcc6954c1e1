"""asl serve (or run.py --serve): the recognizer's web page and API on this machine.

Open http://127.0.0.1:8000 in a browser for the live page; http://127.0.0.1:8000/docs for the API. It listens
on this machine only unless --host says otherwise (--host 0.0.0.0 for the local network: a phone's browser
gives a page its camera only over https or on localhost, so put it behind an https proxy for phones).
"""

from __future__ import annotations

import argparse
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
# Connections at once; more are answered 503. Each may hold an upload of up to 25 MB spooled to disk while it is
# parsed, so this bounds the disk a crowd of uploads can fill (2.5 GB).
MAX_CONNECTIONS = 100
WS_MAX_BYTES = 16 * 2**20  # a WebSocket message larger closes the connection (1009); smaller ones get an answer


def add_serve_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("serving (--serve)")
    g.add_argument("--host", default="127.0.0.1", help="address to listen on (default: this machine only)")
    g.add_argument("--port", type=number(1, 65535, integer=True), default=8000, help="port [8000]")
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


def serve(
    model: Path,
    device: str,
    host: str,
    port: int,
    max_sessions: int,
    no_letter_offset: float | None = None,
    options: SessionOptions | None = None,
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
    app = create_app(classifier, Limits(sessions=max_sessions), options or SessionOptions())

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
        limit_concurrency=MAX_CONNECTIONS,
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
    return cli_main(lambda: serve(args.model, args.device, args.host, args.port, args.max_sessions))


if __name__ == "__main__":
    sys.exit(main())

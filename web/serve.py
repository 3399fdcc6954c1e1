"""asl serve (or run.py --serve): the recognizer's web page and API on this machine.

Open http://127.0.0.1:8000 in a browser for the live page; http://127.0.0.1:8000/docs for the API. It listens
on this machine only unless --host says otherwise (--host 0.0.0.0 for the local network: a phone's browser
gives a page its camera only over https or on localhost, so put it behind an https proxy for phones).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from core.cli import number, setup_logging
from core.errors import EXIT_OK, UsageError, cli_main
from model import DEVICE_CHOICES, SHIPPED_CHECKPOINT, model_path

log = logging.getLogger("web.serve")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


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


def serve(model: Path, device: str, host: str, port: int, max_sessions: int) -> int:
    import socket

    import uvicorn

    from model.classifier import LetterClassifier
    from realtime.live import share_cores
    from realtime.smoothing import LIVE_NO_LETTER_OFFSET
    from web.app import Limits, create_app

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError as e:
            raise UsageError(f"cannot listen on {host}:{port}: {e.strerror} (try another --port)") from None
    if host not in LOCAL_HOSTS:
        log.warning("listening on %s: anyone who can reach this machine can use the recognizer", host)
    share_cores()
    classifier = LetterClassifier(model, device, LIVE_NO_LETTER_OFFSET)
    app = create_app(classifier, Limits(sessions=max_sessions))
    log.info("the page: http://%s:%d/  the API: http://%s:%d/docs", host, port, host, port)
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning")
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

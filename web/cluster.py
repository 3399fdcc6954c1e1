"""python -m web.cluster: several recognizer servers behind nginx on this machine, checked as pages meet them.

Starts ``--servers`` servers (``python -m web.serve``) on free loopback ports, waits for each one's ``/health``
(readiness), then nginx with ``deploy/nginx.conf`` in front of them, and checks:

1. pages spread over the servers, and each page stays on its server: a page connecting again from the same
   address lands on the same one (its tracking and text live there);
2. every page gets answers to its frames through nginx;
3. when one server stops, its pages are told (the socket closes), and connecting again they land on a server
   that is up.

Pages come from different loopback addresses (127.0.0.2, 127.0.0.3, ...), as different people would. The last
output line is one JSON object; exit 0 when every check passed, 1 otherwise, 2 without nginx.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import cv2
import numpy as np

from core.cli import number, setup_logging
from core.errors import EXIT_FAILED, EXIT_OK, RunFailure, UsageError, cli_main
from model import SHIPPED_CHECKPOINT, model_path
from web.load import free_port, start_server

log = logging.getLogger("web.cluster")
CONFIG = Path(__file__).resolve().parent.parent / "deploy" / "nginx.conf"
CHECKS = ("spread", "sticky", "answered", "told_to_reconnect", "reconnected_elsewhere")  # what must hold
FRAME = cv2.imencode(".jpg", np.full((240, 320, 3), 90, np.uint8))[1].tobytes()


def nginx_config(listen: int, ports: list[int], run_dir: Path) -> str:
    servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;" for p in ports)
    return CONFIG.read_text().format(listen=f"127.0.0.1:{listen}", servers=servers, run_dir=run_dir)


def start_nginx(listen: int, ports: list[int], run_dir: Path) -> subprocess.Popen:
    nginx = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
    if nginx is None:
        raise UsageError("nginx is not installed: apt-get install nginx (bash setup.sh --dev does)")
    conf = run_dir / "nginx.conf"
    conf.write_text(nginx_config(listen, ports, run_dir))
    proc = subprocess.Popen(
        [nginx, "-p", str(run_dir), "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 15
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RunFailure(f"nginx did not start: {proc.stderr.read().strip()[-300:] if proc.stderr else ''}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{listen}/health", timeout=2):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RunFailure("nginx did not answer within 15 s")


def accepted_by(ws: object) -> str:
    """The server that accepted a socket, from the header the app sends with its handshake."""
    response = getattr(ws, "response", None)
    return response.headers.get("x-asl-server", "?") if response is not None else "?"


async def page(url: str, address: str, frames: int) -> tuple[str, int]:
    """One page from ``address``: the server that accepted it and the answers it got to ``frames`` frames."""
    import websockets

    async with websockets.connect(url, local_addr=(address, 0), max_size=2**22) as ws:
        server = accepted_by(ws)
        answered = 0
        for _ in range(frames):
            await ws.send(FRAME)
            if "error" not in json.loads(await asyncio.wait_for(ws.recv(), 30)):
                answered += 1
    return server, answered


async def held_page(url: str, address: str) -> tuple[str, object]:
    """A page that stays open: the server that accepted it, and the open socket."""
    import websockets

    ws = await websockets.connect(url, local_addr=(address, 0), max_size=2**22)
    await ws.send(FRAME)
    await asyncio.wait_for(ws.recv(), 30)
    return accepted_by(ws), ws


async def told_to_go(ws: object, timeout_s: float) -> int | None:
    """The close code the server sent within ``timeout_s``, or None when the socket stayed open."""
    import websockets

    try:
        while True:
            await asyncio.wait_for(ws.recv(), timeout_s)  # type: ignore[attr-defined]
    except websockets.ConnectionClosed as e:
        return e.rcvd.code if e.rcvd else 1006
    except asyncio.TimeoutError:
        return None


async def checks(url: str, servers: dict[str, subprocess.Popen], pages: int) -> dict:
    addresses = [f"127.0.0.{k}" for k in range(2, 2 + pages)]
    first = [await page(url, a, 5) for a in addresses]
    again = [await page(url, a, 2) for a in addresses]
    placed = {a: s for a, (s, _) in zip(addresses, first)}
    result: dict = {
        "pages": placed,
        "spread": len(set(placed.values())) > 1,
        "sticky": all(placed[a] == s for a, (s, _) in zip(addresses, again)),
        "answered": all(n == 5 for _, n in first),
    }
    held = [await held_page(url, a) for a in addresses]
    victim = held[0][0]
    servers[victim].send_signal(signal.SIGTERM)
    codes = await asyncio.gather(*(told_to_go(ws, 15) for s, ws in held if s == victim))
    for s, ws in held:
        if s != victim:
            await ws.close()  # type: ignore[attr-defined]
    moved = [await page(url, a, 2) for a, (s, _) in zip(addresses, held) if s == victim]
    result |= {
        "stopped": victim,
        "told_to_reconnect": bool(codes) and all(c is not None for c in codes),
        "close_codes": codes,
        "reconnected_elsewhere": all(s != victim and n == 2 for s, n in moved),
    }
    return result


def run(args: argparse.Namespace) -> int:
    listen = free_port()
    with tempfile.TemporaryDirectory(prefix="asl-cluster-") as tmp:
        started: list[subprocess.Popen] = []
        nginx = None
        try:
            ports = [free_port() for _ in range(args.servers)]
            for port in ports:
                started.append(start_server(args.model, port, max_sessions=args.pages))
            servers = {}
            for port, proc in zip(ports, started):
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as r:
                    servers[json.load(r)["server"]] = proc
            nginx = start_nginx(listen, ports, Path(tmp))
            result = asyncio.run(checks(f"ws://127.0.0.1:{listen}/ws", servers, args.pages))
        finally:
            for proc in [*started, *([nginx] if nginx else [])]:
                if proc.poll() is None:
                    proc.terminate()
            for proc in [*started, *([nginx] if nginx else [])]:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
    passed = all(result[k] for k in CHECKS)
    for key in CHECKS:
        print(f"{key:22s} {'yes' if result[key] else 'NO'}")
    print(json.dumps({"passed": passed, **result}))
    return EXIT_OK if passed else EXIT_FAILED


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    p = argparse.ArgumentParser(
        prog=prog or "python -m web.cluster", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--servers", type=number(2, 8, integer=True), default=2, help="servers behind nginx [2]")
    p.add_argument("--pages", type=number(2, 16, integer=True), default=6, help="pages, one address each [6]")
    p.add_argument("--model", type=model_path, default=SHIPPED_CHECKPOINT)
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)
    setup_logging(args.verbose, from_command_line=argv is None)
    return cli_main(lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())

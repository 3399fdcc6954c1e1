"""python -m web.load --video CLIP: how many live sessions one machine serves at a frame rate.

Starts the server (``python -m web.serve``) on a free local port, then for 1, 2, ... sessions runs that many
WebSocket clients at once, each sending the clip's frames (letterboxed to ``--camera-size``, JPEG) at ``--fps``
the way the page does: the next frame when the answer to the last has come, and not before its time. A count
of sessions is served when every session gets at least 95% of ``--fps`` answers a second. The last output line
is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import cv2
import numpy as np

from core.cli import number, setup_logging, size_arg
from core.errors import EXIT_OK, UsageError, cli_main
from model import SHIPPED_CHECKPOINT, model_path
from realtime.capture import SourceError, VideoFile, letterbox

log = logging.getLogger("web.load")
SERVED = 0.95  # share of the asked frame rate every session must get


async def session(url: str, frames: list[bytes], fps: float, seconds: float) -> dict:
    """One page's worth of traffic; answers a second and round trips (ms)."""
    import websockets

    trips: list[float] = []
    async with websockets.connect(url, max_size=2**22) as ws:
        start = time.perf_counter()
        k = 0
        while (now := time.perf_counter()) - start < seconds:
            sent = now
            await ws.send(frames[k % len(frames)])
            answer = json.loads(await ws.recv())
            if "error" in answer:
                return {"error": answer.get("message", answer["error"])}
            trips.append((time.perf_counter() - sent) * 1000)
            k += 1
            await asyncio.sleep(max(0.0, start + k / fps - time.perf_counter()))
        elapsed = time.perf_counter() - start
    return {"fps": len(trips) / elapsed, "trips": trips}


async def sessions_at_once(url: str, n: int, frames: list[bytes], fps: float, seconds: float) -> list[dict]:
    return list(await asyncio.gather(*(session(url, frames, fps, seconds) for _ in range(n))))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(model: Path, port: int, max_sessions: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "web.serve", "--model", str(model), "--port", str(port)]
    server = subprocess.Popen([*cmd, "--max-sessions", str(max_sessions)], stdout=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                return server
        except OSError:
            if server.poll() is not None:
                raise UsageError("the server did not start (see its error above)") from None
            time.sleep(0.5)
    server.kill()
    raise UsageError("the server did not answer within a minute")


def load(args: argparse.Namespace) -> int:
    try:
        with VideoFile(args.video, realtime=False) as source:
            frames = [cv2.imencode(".jpg", letterbox(f.image, args.camera_size))[1].tobytes() for f in source]
    except SourceError as e:
        raise UsageError(str(e)) from None
    port = free_port()
    server = start_server(args.model, port, args.max_sessions)
    rows = []
    try:
        for n in range(1, args.max_sessions + 1):
            results = asyncio.run(sessions_at_once(f"ws://127.0.0.1:{port}/ws", n, frames, args.fps, args.seconds))
            errors = [r["error"] for r in results if "error" in r]
            if errors:
                raise UsageError(f"{n} sessions: {errors[0]}")
            rates = [r["fps"] for r in results]
            trips = np.concatenate([r["trips"] for r in results])
            row = {
                "sessions": n,
                "fps_min": round(min(rates), 1),
                "fps_median": round(statistics.median(rates), 1),
                "round_trip_ms_p50": round(float(np.percentile(trips, 50)), 1),
                "round_trip_ms_p95": round(float(np.percentile(trips, 95)), 1),
            }
            rows.append(row)
            print(
                f"{n} session(s): {row['fps_min']:.1f}-{max(rates):.1f} answers/s each (asked {args.fps:g}); "
                f"round trip p50 {row['round_trip_ms_p50']:.0f} ms, p95 {row['round_trip_ms_p95']:.0f} ms",
                flush=True,
            )
            if min(rates) < SERVED * args.fps:
                break
    finally:
        server.terminate()
        server.wait(timeout=30)
    served = max((r["sessions"] for r in rows if r["fps_min"] >= SERVED * args.fps), default=0)
    print(f"sessions served at {args.fps:g} fps: {served}")
    print(json.dumps({"fps": args.fps, "camera": "x".join(map(str, args.camera_size)), "served": served, "rows": rows}))
    return EXIT_OK


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    p = argparse.ArgumentParser(
        prog=prog or "python -m web.load", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--video", type=Path, required=True, help="the clip every session sends")
    p.add_argument("--model", type=model_path, default=SHIPPED_CHECKPOINT)
    p.add_argument("--fps", type=number(1, 60), default=15.0, help="frames a second each session sends [15]")
    p.add_argument("--seconds", type=number(2, 600), default=15.0, help="how long each count runs [15]")
    p.add_argument("--max-sessions", type=number(1, 64, integer=True), default=8, help="the most tried [8]")
    p.add_argument("--camera-size", type=size_arg, default=(640, 480), help="the pages' camera WIDTHxHEIGHT")
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)
    setup_logging(args.verbose, from_command_line=argv is None)
    return cli_main(lambda: load(args))


if __name__ == "__main__":
    sys.exit(main())

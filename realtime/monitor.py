"""How a run is going: frames per second now, and the totals its closing summary line reports."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from realtime.pipeline import FrameResult

log = logging.getLogger(__name__)
PER_HAND_STAGES = ("crop", "classify")  # stages that run only on frames with a hand, averaged over those


class FpsMeter:
    """Frames per second, smoothed over about ten frames."""

    def __init__(self, smoothing: float = 0.1) -> None:
        self.smoothing = smoothing
        self.fps = 0.0
        self._last: float | None = None

    def tick(self) -> float:
        now = time.perf_counter()
        if self._last is not None:
            fps_now = 1.0 / max(now - self._last, 1e-6)
            self.fps = fps_now if self.fps == 0 else (1 - self.smoothing) * self.fps + self.smoothing * fps_now
        self._last = now
        return self.fps


class RunStats:
    """Counts frames, hands, stage times and committed letters, and logs each letter event as it comes."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.frames = self.hands = 0
        self.commits: list[str] = []
        self.last_t = 0.0  # the time of the last frame processed
        self._stage_ms: dict[str, float] = {}

    def add(self, result: FrameResult) -> None:
        self.frames += 1
        self.last_t = result.frame.t
        self.hands += result.hand is not None
        for stage, ms in result.timings_ms.items():
            self._stage_ms[stage] = self._stage_ms.get(stage, 0.0) + ms
        for e in result.events:
            log.log(
                logging.INFO if e.kind == "commit" else logging.DEBUG,
                "%s %s at %.2f s (%.0f%%)%s",
                e.kind,
                e.letter or "",
                e.t,
                100 * e.confidence,
                f", taking back {e.replaces}" if e.replaces else "",
            )
            if e.kind == "commit":
                if e.replaces and self.commits:
                    self.commits.pop()
                self.commits.append(f"{e.letter}@{e.t:.2f}s")

    def fps(self) -> float:
        """Frames a second since the run started."""
        return self.frames / max(time.perf_counter() - self.started, 1e-6)

    def stage_means(self) -> dict[str, float]:
        """Mean ms of each stage: per frame, or per frame with a hand for the stages only those have."""
        return {k: v / max(self.hands if k in PER_HAND_STAGES else self.frames, 1) for k, v in self._stage_ms.items()}

    def summary(self) -> str:
        """``N frames in T s (F FPS), hand in H; mean ms: ...; committed: ...``: benchmarks read this form."""
        elapsed = time.perf_counter() - self.started
        return (
            f"{self.frames} frames in {elapsed:.1f} s ({self.fps():.1f} FPS), "
            f"hand in {self.hands}; mean ms: {', '.join(f'{k} {v:.1f}' for k, v in self.stage_means().items())}; "
            f"committed: {' '.join(self.commits) or 'nothing'}"
        )

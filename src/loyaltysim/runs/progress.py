"""Progress of many runs: a tqdm bar on a terminal, one plain line per change elsewhere (CI
logs, pipes), with runs done, failed and skipped and an estimate of the time left.

The estimate is honest: it appears only after a few runs have finished in this session
(skipped runs and start-up do not count), and it divides the remaining runs by the rate
seen so far, so parallel jobs are counted at the throughput they actually reach.
"""

from __future__ import annotations

import math
import re
import sys
import time
from typing import IO

from tqdm import tqdm

MIN_RUNS_FOR_ETA = 3
LINE = re.compile(
    r"(?P<finished>\d+)/(?P<total>\d+) runs finished \((?P<done>\d+) done, "
    r"(?P<failed>\d+) failed\)(?:; (?P<skipped>\d+) skipped)?"
)


def duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    m, s = divmod(int(round(seconds)), 60)
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"


def eta(remaining: int, finished_now: int, elapsed: float) -> float:
    """Seconds left, or inf until ``MIN_RUNS_FOR_ETA`` runs have finished in this session."""
    if finished_now < MIN_RUNS_FOR_ETA or elapsed <= 0:
        return math.inf
    return remaining * elapsed / finished_now


def left_text(remaining: int, finished_now: int, elapsed: float) -> str:
    if remaining <= 0:
        return "0m00s left"
    seconds = eta(remaining, finished_now, elapsed)
    if not math.isfinite(seconds):
        return f"time left: estimated after {MIN_RUNS_FOR_ETA} runs"
    return f"~{duration(seconds)} left"


def line(total: int, done: int, failed: int, skipped: int, elapsed: float, tag: str) -> str:
    """``[tag] 7/60 runs finished (6 done, 1 failed); 3 skipped; ~0m41s left``."""
    finished_now = done + failed - skipped
    remaining = total - done - failed
    return (
        f"[{tag}] {done + failed}/{total} runs finished ({done} done, {failed} failed); "
        f"{skipped} skipped; {left_text(remaining, finished_now, elapsed)}"
    )


def meter(total: int, done: int, failed: int, skipped: int, elapsed: float, desc: str) -> str:
    """The same as a tqdm bar (a string; for processes that cannot hold a bar object)."""
    finished_now = done + failed - skipped
    remaining = total - done - failed
    return tqdm.format_meter(
        done + failed,
        total,
        elapsed,
        prefix=desc,
        ncols=100,
        bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}, {postfix}]",
        postfix=f"{done} done, {failed} failed, {skipped} skipped, "
        + left_text(remaining, finished_now, elapsed),
    )


class Progress:
    """Runs done/failed/skipped out of ``total``: a tqdm bar on a terminal, else a line per
    change on ``stream``. Update with absolute counts; close at the end."""

    def __init__(
        self, total: int, desc: str, tag: str = "loyaltysim", stream: IO[str] | None = None
    ):
        self.total, self.desc, self.tag = total, desc, tag
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.time()
        self.state = (0, 0, 0)
        self.bar = (
            tqdm(
                total=total,
                desc=desc,
                file=self.stream,
                ncols=100,
                bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}, {postfix}]",
            )
            if self.tty
            else None
        )

    def update(self, done: int, failed: int, skipped: int = 0, total: int | None = None) -> None:
        if total is not None and total != self.total:
            self.total = total
            if self.bar is not None:
                self.bar.total = total
        if (done, failed, skipped) == self.state and total is None:
            return
        self.state = (done, failed, skipped)
        elapsed = time.time() - self.start
        if self.bar is not None:
            left = left_text(self.total - done - failed, done + failed - skipped, elapsed)
            self.bar.n = done + failed
            self.bar.set_postfix_str(
                f"{done} done, {failed} failed, {skipped} skipped, {left}", refresh=True
            )
        else:
            msg = line(self.total, done, failed, skipped, elapsed, self.tag)
            print(msg, file=sys.stdout, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

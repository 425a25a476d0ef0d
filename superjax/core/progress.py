"""A dependency-free progress bar with rate and ETA, written to stderr."""

from __future__ import annotations

import sys
import time


def _clock(seconds: float) -> str:
  seconds = int(round(seconds))
  h, rem = divmod(seconds, 3600)
  m, s = divmod(rem, 60)
  return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Progress:
  """Counts units of work (model-steps for the engine); redraws in place on a terminal,
  prints a line every `line_every` seconds otherwise (logs, CI)."""

  def __init__(self, total: int, label: str, stream=None, line_every: float = 10.0,
               enabled: bool = True, unit: str = "model-steps"):
    self.total, self.label, self.done, self.unit = max(total, 1), label, 0, unit
    self.stream = stream or sys.stderr
    self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
    self.enabled, self.line_every = enabled, line_every
    self.start = self.last_line = time.perf_counter()
    self.skipped = 0  # work restored from checkpoints, excluded from the rate

  def skip(self, amount: int) -> None:
    self.done += amount
    self.skipped += amount

  def update(self, amount: int, note: str = "") -> None:
    self.done += amount
    now = time.perf_counter()
    if not self.enabled or (not self.tty and now - self.last_line < self.line_every
                            and self.done < self.total):
      return
    self.last_line = now
    rate = (self.done - self.skipped) / max(now - self.start, 1e-9)
    eta = (self.total - self.done) / rate if rate > 0 else float("inf")
    frac = self.done / self.total
    bar = "#" * int(24 * frac) + "-" * (24 - int(24 * frac))
    speed = f"{rate:,.0f} {self.unit}/s" if rate >= 1 else f"{1 / max(rate, 1e-9):,.1f} s/{self.unit}"
    line = (f"{self.label} [{bar}] {100 * frac:5.1f}%  {speed}  "
            f"elapsed {_clock(now - self.start)}  ETA {_clock(eta) if eta != float('inf') else '?'}"
            f"  {note}")
    if self.tty:
      self.stream.write("\r" + line.ljust(120)[:160])
      if self.done >= self.total:
        self.stream.write("\n")
    else:
      self.stream.write(line.rstrip() + "\n")
    self.stream.flush()

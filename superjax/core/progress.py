"""A progress bar with rate and ETA that renders where the user is looking: redrawn in place
on a terminal, as a live bar in a Jupyter notebook, as a line every few seconds in logs.

Dependency-free: the notebook display uses IPython, which a notebook already has.
"""

from __future__ import annotations

import html
import sys
import time

from superjax.core import distributed, host


def say(message: str) -> None:
  """A line for the user on stderr (the primary process's only)."""
  if distributed.is_primary():
    print(message, file=sys.stderr, flush=True)


def _clock(seconds: float) -> str:
  seconds = int(round(seconds))
  h, rem = divmod(seconds, 3600)
  m, s = divmod(rem, 60)
  return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class _Terminal:
  """Redraws one line in place with a carriage return."""

  every = 0.0

  def __init__(self, stream):
    self.stream = stream

  def show(self, line: str, fraction: float, finished: bool) -> None:
    self.stream.write("\r" + line.ljust(120)[:160] + ("\n" if finished else ""))
    self.stream.flush()


class _Lines:
  """A new line every `every` seconds and at the end: logs and CI."""

  def __init__(self, stream, every: float):
    self.stream, self.every = stream, every

  def show(self, line: str, fraction: float, finished: bool) -> None:
    self.stream.write(line.rstrip() + "\n")
    self.stream.flush()


class _Notebook:
  """A live HTML bar in the output of the running cell, updated in place."""

  every = 0.5

  def __init__(self):
    self.handle = None

  def show(self, line: str, fraction: float, finished: bool) -> None:
    from IPython.display import display
    bar = (f'<progress value="{fraction:.4f}" max="1" style="width: 24em"></progress> '
           f"<code>{html.escape(line)}</code>")
    content = {"text/plain": line, "text/html": bar}
    if self.handle is None:
      self.handle = display(content, raw=True, display_id=True)
    else:
      self.handle.update(content, raw=True)


class Progress:
  """Counts units of work (model-steps: one step of one run, unless told otherwise).

  Args:
    total: units the whole job takes.
    label: what is running (the sweep's name).
    stream: where terminal and log output go (stderr).
    line_every: seconds between log lines when the stream is not a terminal.
    enabled: False shows nothing.
    unit: the name of one unit of work.
  """

  def __init__(self, total: int, label: str, stream=None, line_every: float = 10.0,
               enabled: bool = True, unit: str = "model-steps"):
    self.total, self.label, self.done, self.unit = max(total, 1), label, 0, unit
    self.stream = stream or sys.stderr
    self.enabled = enabled
    if host.in_notebook() and stream is None:
      self.display = _Notebook()
    elif hasattr(self.stream, "isatty") and self.stream.isatty():
      self.display = _Terminal(self.stream)
    else:
      self.display = _Lines(self.stream, line_every)
    self.start = self.last_shown = time.perf_counter()
    self.skipped = 0  # work restored from checkpoints, excluded from the rate

  def skip(self, amount: int) -> None:
    self.done += amount
    self.skipped += amount

  def line(self, note: str = "") -> str:
    now = time.perf_counter()
    rate = (self.done - self.skipped) / max(now - self.start, 1e-9)
    eta = (self.total - self.done) / rate if rate > 0 else float("inf")
    frac = min(self.done / self.total, 1.0)
    bar = "#" * int(24 * frac) + "-" * (24 - int(24 * frac))
    speed = (f"{rate:,.0f} {self.unit}/s" if rate >= 1
             else f"{1 / max(rate, 1e-9):,.1f} s/{self.unit}")
    return (f"{self.label} [{bar}] {100 * frac:5.1f}%  {speed}  "
            f"elapsed {_clock(now - self.start)}  ETA {_clock(eta) if eta != float('inf') else '?'}"
            f"  {note}").rstrip()

  def update(self, amount: int, note: str = "") -> None:
    self.done += amount
    now = time.perf_counter()
    finished = self.done >= self.total
    if not self.enabled or (now - self.last_shown < self.display.every and not finished):
      return
    self.last_shown = now
    self.display.show(self.line(note), min(self.done / self.total, 1.0), finished)

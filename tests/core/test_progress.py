"""The progress bar: rate and ETA from the work done, redrawn in place on a terminal, a
line at a time in logs, restored work left out of the rate."""

import io

from superjax.core import progress


class _Tty(io.StringIO):
  def isatty(self):
    return True


def test_log_lines_report_rate_and_eta(monkeypatch):
  clock = iter([0.0, 10.0, 10.0, 20.0, 20.0])
  monkeypatch.setattr(progress.time, "perf_counter", lambda: next(clock))
  stream = io.StringIO()
  bar = progress.Progress(1000, "sweep", stream=stream, line_every=5.0)
  bar.skip(200)  # restored from a checkpoint: counted as done, not in the rate
  bar.update(300, note="relu step 50")
  line = stream.getvalue().splitlines()[-1]
  # 300 model-steps in 10 s: 30/s, 500 left: ETA 16.7 s.
  assert "50.0%" in line and "30 model-steps/s" in line and "ETA 0:17" in line
  assert line.endswith("relu step 50") and "elapsed 0:10" in line
  bar.update(500)
  assert "100.0%" in stream.getvalue().splitlines()[-1]


def test_terminal_redraws_one_line_and_ends_it():
  stream = _Tty()
  bar = progress.Progress(4, "sweep", stream=stream, unit="cells")
  for _ in range(4):
    bar.update(1)
  text = stream.getvalue()
  assert text.count("\r") == 4 and text.count("\n") == 1 and "cells" in text


def test_disabled_shows_nothing():
  stream = io.StringIO()
  bar = progress.Progress(10, "sweep", stream=stream, enabled=False, line_every=0.0)
  bar.update(10)
  assert stream.getvalue() == ""

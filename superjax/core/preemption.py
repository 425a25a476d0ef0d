"""Stopping cleanly when asked: SLURM, preemptible TPU VMs and Kubernetes send SIGTERM some
seconds before they kill a job, and a user presses Ctrl-C (SIGINT).

While `signals_caught()` is active, either signal only records itself (and says so). The
core loop asks `requested()` after every dispatch (at most a few seconds of steps); when a
signal has arrived it saves the state of the step it reached and raises `Stopped`, which
the CLI prints as one line that says how to resume. A signal during compilation or
measurement takes effect at the next dispatch. A second Ctrl-C exits at once, from
whatever the process is doing (SIGINT's default action is restored at the first signal),
without saving: the last checkpoint is kept.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading

from superjax.core.errors import SuperjaxError

_CAUGHT = (signal.SIGTERM, signal.SIGINT)
_received: list[int] = []


class Stopped(SuperjaxError):
  """A run stopped by a signal after saving its state; `signum` is the signal."""

  def __init__(self, message: str, signum: int):
    super().__init__(message)
    self.signum = signum


def _record(signum, frame):
  if not _received:
    sys.stderr.write(f"\nsuperjax: received {name(signum)}; stopping within seconds with "
                     "the state saved (Ctrl-C again to exit at once, keeping the last "
                     "checkpoint)\n")
    # The next Ctrl-C is the kernel's to act on, even while XLA holds the thread.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
  _received.append(signum)


@contextlib.contextmanager
def signals_caught():
  """Records SIGTERM and SIGINT instead of dying, inside the block (main thread only:
  elsewhere, e.g. a notebook's worker thread, signals keep their handlers)."""
  if threading.current_thread() is not threading.main_thread():
    yield
    return
  previous = {s: signal.signal(s, _record) for s in _CAUGHT}
  _received.clear()
  try:
    yield
  finally:
    for s, handler in previous.items():
      signal.signal(s, handler)
    _received.clear()


def requested() -> int | None:
  """The first signal received inside `signals_caught`, or None."""
  return _received[0] if _received else None


def name(signum: int) -> str:
  return signal.Signals(signum).name

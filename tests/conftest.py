"""Strict JAX for tests: implicit rank promotion is an error. One compilation cache for
the whole session, kept out of the user's own, and each experiment's tiny run trained
once for the whole session."""

import fcntl
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import jax
import numpy as np
import pytest

# One compilation cache for the session: every xdist worker, its in-process runs and its
# CLI subprocesses share it, so a program compiled by one is loaded by the others. The
# controller process removes it when the session ends.
_RUN = os.environ.get("PYTEST_XDIST_TESTRUNUID", f"pid{os.getpid()}")
CACHE = Path(tempfile.gettempdir()) / f"superjax-test-xla-{_RUN}"
os.environ["SUPERJAX_COMPILATION_CACHE"] = str(CACHE)
# The tiny runs every worker shares (tiny_run).
RUNS = Path(tempfile.gettempdir()) / f"superjax-test-runs-{_RUN}"

from superjax.core import host

# As `superjax run` does: one XLA device per core, so in-process runs compile the same
# programs as the CLI subprocesses and share their cache entries.
host.setup()
jax.config.update("jax_numpy_rank_promotion", "raise")


def pytest_sessionfinish(session):
  if not hasattr(session.config, "workerinput"):  # the controller, or a run without xdist
    shutil.rmtree(CACHE, ignore_errors=True)
    shutil.rmtree(RUNS, ignore_errors=True)


@pytest.fixture(scope="session")
def tiny_run():
  """(name, copy_to=None) -> (a sweep file of that experiment's tiny config, its run
  directory), trained uninterrupted by `superjax run` once for the whole session: the
  first worker to ask trains it under a lock, the others wait for it. A test that writes
  to the run directory asks for a copy at `copy_to`."""

  def get(name: str, copy_to: Path | None = None) -> tuple[Path, Path]:
    root = RUNS / name
    root.mkdir(parents=True, exist_ok=True)
    sweep, run_dir = root / "tiny.py", root / "run"
    with open(root / "lock", "w") as lock:
      fcntl.flock(lock, fcntl.LOCK_EX)
      if not (run_dir / "results.nc").exists():
        sweep.write_text(f"from superjax.core import experiment\n"
                         f"CONFIG = experiment.get({name!r}).tiny()\n")
        done = subprocess.run([sys.executable, "-m", "superjax", "run", str(sweep), "--out",
                               str(run_dir), "--no-progress"],
                              capture_output=True, text=True, timeout=900, check=False)
        assert done.returncode == 0, done.stderr[-3000:]
    if copy_to is not None:
      run_dir = Path(shutil.copytree(run_dir, copy_to))
    return sweep, run_dir

  return get


@pytest.fixture
def tiny_config():
  """The toy family's tiny sweep, shorter still: trains in a second or two."""
  from superjax.toy.config import tiny
  return tiny().replace(name="tiny", density=(1.0, 0.1), steps=200, figures=(), reports=())


@pytest.fixture
def every_input():
  """(n, s, at_most=False) -> every boolean input with exactly (or at most) s of n
  features on, (count, n) float32: the brute-force inputs of the U-AND and circuit tests."""

  def inputs(n, s, at_most=False):
    rows = []
    for k in range(s + 1) if at_most else (s,):
      for active in itertools.combinations(range(n), k):
        x = np.zeros(n, np.float32)
        x[list(active)] = 1
        rows.append(x)
    return np.stack(rows)

  return inputs

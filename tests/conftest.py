"""Strict JAX for tests: implicit rank promotion is an error. One compilation cache for
the whole session, kept out of the user's own."""

import itertools
import os
import shutil
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

from superjax.core import host

# As `superjax run` does: one XLA device per core, so in-process runs compile the same
# programs as the CLI subprocesses and share their cache entries.
host.setup()
jax.config.update("jax_numpy_rank_promotion", "raise")


def pytest_sessionfinish(session):
  if not hasattr(session.config, "workerinput"):  # the controller, or a run without xdist
    shutil.rmtree(CACHE, ignore_errors=True)


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

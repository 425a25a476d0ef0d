"""Strict JAX for tests: implicit rank promotion is an error."""

import atexit
import os
import shutil
import tempfile

import jax
import pytest

# One compilation cache per test process (each xdist worker), shared by its CLI runs and
# their subprocesses, kept out of the user's own and removed at exit.
os.environ["SUPERJAX_COMPILATION_CACHE"] = tempfile.mkdtemp(prefix="superjax-xla-")
atexit.register(shutil.rmtree, os.environ["SUPERJAX_COMPILATION_CACHE"], ignore_errors=True)

jax.config.update("jax_numpy_rank_promotion", "raise")


@pytest.fixture
def tiny_config():
  """A sweep small enough to train in a second or two."""
  from superjax import SweepConfig
  return SweepConfig(name="tiny", models=("relu",), n=5, m=2, density=(1.0, 0.1), seeds=2,
                     importance=(0.9,), steps=200, batch=64, log_every=50,
                     checkpoint_every=100, eval_batch=256)

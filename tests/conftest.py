"""Strict JAX for tests: implicit rank promotion is an error."""

import jax
import pytest

jax.config.update("jax_numpy_rank_promotion", "raise")


@pytest.fixture
def tiny_config():
  """A sweep small enough to train in a second or two."""
  from superjax import SweepConfig
  return SweepConfig(name="tiny", models=("relu",), n=5, m=2, density=(1.0, 0.1), seeds=2,
                     importance=(0.9,), steps=200, batch=64, log_every=50,
                     checkpoint_every=100, eval_batch=256)

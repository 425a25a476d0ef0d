"""Named random streams. Every key in superjax derives from `key(base_seed)` by `fold_in`
of fixed constants, never from `key(base_seed + offset)`: with offsets, stream A at base
seed b+1 is stream B at base seed b, so replicates made by changing the base seed would
share random numbers.

  root(base_seed, stream)     a study's named stream: fold_in(key(base_seed), code(stream))
  run_keys(base_seed, seeds)  one key per run, from its seed (runs of one seed share it)
  init_key(run_key)           the key the core loop hands a run's init
  step_key(run_key, t)        the key the core loop hands a run's step t
  finish_key(run_key)         the key the core loop hands a run's finish
  named(key, name)            a family's sub-stream of any key

A name's constant is its CRC-32 masked to 31 bits (`code`), so a stream is named in one
place, by its meaning. The whole recipe, for a plain re-implementation of a run:

  code(name)   = zlib.crc32(name.encode()) & 0x7FFFFFFF
  run key      = fold_in(fold_in(key(base_seed), code("runs")), seed)
  init key     = fold_in(run key, code("init"))
  step t's key = fold_in(fold_in(run key, code("steps")), t)
  finish key   = fold_in(run key, code("finish"))

init, every step and finish thus draw from disjoint streams of the run's key.
"""

from __future__ import annotations

import functools
import zlib

import jax
import jax.numpy as jnp

RUNS = "runs"  # the stream runs' keys come from
INIT = "init"  # the stream of a run's init
STEPS = "steps"  # the stream each run's step keys come from
FINISH = "finish"  # the stream of a run's finish


def code(name: str) -> int:
  """The fixed 31-bit constant folded in for the stream `name`."""
  return zlib.crc32(name.encode()) & 0x7FFFFFFF


def named(key: jax.Array, name: str) -> jax.Array:
  """The sub-stream `name` of `key`."""
  return jax.random.fold_in(key, code(name))


def root(base_seed: int, stream: str) -> jax.Array:
  """The named stream `stream` of a study whose base seed is `base_seed`."""
  return named(jax.random.key(base_seed), stream)


def run_keys(base_seed: int, seeds, stream: str = RUNS) -> jax.Array:
  """(runs,) keys fold_in(root(base_seed, stream), seed): runs that share a seed share their
  key, so they differ only in their hyperparameters (common random numbers)."""
  return _run_keys(jnp.asarray(base_seed), jnp.asarray(seeds), stream)


# One compiled program: run op by op, the key arithmetic compiled a dozen small programs
# at every start (half a second on CPU, outside the training step).
@functools.partial(jax.jit, static_argnums=2)
def _run_keys(base_seed: jax.Array, seeds: jax.Array, stream: str) -> jax.Array:
  base = root(base_seed, stream)
  return jax.vmap(lambda seed: jax.random.fold_in(base, seed))(seeds)


def run_key(base_seed: int, seed, stream: str = RUNS) -> jax.Array:
  """One run's key: `run_keys` for a single (possibly traced) seed."""
  return jax.random.fold_in(root(base_seed, stream), seed)


def step_key(key: jax.Array, t) -> jax.Array:
  """The key of step t of the run whose key is `key`: a function of the two alone, so a
  resumed run draws what an uninterrupted one does, whatever the chunking or devices."""
  return jax.random.fold_in(named(key, STEPS), t)


def init_key(key: jax.Array) -> jax.Array:
  """The key the core loop hands the init of the run whose key is `key`."""
  return named(key, INIT)


def finish_key(key: jax.Array) -> jax.Array:
  """The key the core loop hands the finish of the run whose key is `key`."""
  return named(key, FINISH)

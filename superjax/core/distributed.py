"""Many hosts: JAX's distributed runtime, and the few things the loop does per process.

Every process runs the same `superjax run`. The mesh spans the devices of all processes,
so each process trains the runs that live on its own devices; orbax writes one checkpoint
from all of them; the primary process (index 0) alone writes config, results and figures.

On a GPU cluster under SLURM, or a TPU pod slice, `jax.distributed.initialize()` finds
the coordinator by itself (`superjax run SWEEP --distributed`). Elsewhere name it:
`--coordinator HOST:PORT --num-processes N --process-id I`.
"""

from __future__ import annotations

import jax
import numpy as np
from jax.experimental import multihost_utils

from superjax.core.errors import SuperjaxError


def initialize(coordinator: str | None = None, num_processes: int | None = None,
               process_id: int | None = None) -> None:
  """Joins the distributed runtime; with no arguments the cluster environment says how."""
  # CPU processes exchange arrays through gloo; GPUs and TPUs bring their own collectives.
  jax.config.update("jax_cpu_collectives_implementation", "gloo")
  try:
    jax.distributed.initialize(coordinator_address=coordinator, num_processes=num_processes,
                               process_id=process_id)
  except (RuntimeError, ValueError) as e:
    raise SuperjaxError(f"could not join the distributed runtime: {str(e).splitlines()[0]}") from None


def is_primary() -> bool:
  return jax.process_index() == 0


def barrier(name: str) -> None:
  """Waits until every process reaches the barrier of this name (no-op on one process)."""
  if jax.process_count() > 1:
    multihost_utils.sync_global_devices(name)


def on_primary(name: str, fn) -> None:
  """Runs `fn` on the primary process alone; if it raises there, every process raises,
  so none is left waiting at a later barrier."""
  error = None
  if is_primary():
    try:
      fn()
    except Exception as e:  # whatever it is, the others must not wait for process 0
      error = e
  if jax.process_count() > 1:
    failed = multihost_utils.broadcast_one_to_all(np.int32(error is not None))
    if error is None and int(failed):
      raise SuperjaxError(f"{name}: process 0 refused the run; see its message")
  if error is not None:
    raise error


def agree(flag: bool) -> bool:
  """The primary process's `flag`, on every process (so all take the same branch)."""
  if jax.process_count() == 1:
    return bool(flag)
  return bool(multihost_utils.broadcast_one_to_all(np.int32(flag)))


def any_process(flag: bool) -> bool:
  """Whether `flag` is true on any process (a signal may reach one host only). On several
  processes this is a collective, so every segment then waits for the one before."""
  if jax.process_count() == 1:
    return bool(flag)
  return bool(np.any(multihost_utils.process_allgather(np.int32(flag))))


def smallest(value: int) -> int:
  """The smallest of every process's `value` (so all choose the same size)."""
  if jax.process_count() == 1:
    return int(value)
  return int(np.min(multihost_utils.process_allgather(np.int64(value))))


def gather(x) -> np.ndarray:
  """The whole of an array on this host, whichever processes hold its shards."""
  if isinstance(x, jax.Array) and not x.is_fully_addressable:
    return np.asarray(multihost_utils.process_allgather(x, tiled=True))
  return np.asarray(x)


def shard(a: np.ndarray, sharding: jax.sharding.Sharding) -> jax.Array:
  """A global array from one every process holds in full, each placing its own shards."""
  return jax.make_array_from_callback(a.shape, sharding, lambda index: a[index])

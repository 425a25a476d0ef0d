"""How a pass's runs are split into chunks that fit in memory, padded to the device count
and sharded over the devices.

A chunk is `size` consecutive runs with its own folder of checkpoints
(state/<pass>/runs_<start>_<stop>). The default size is measured, not declared: the loop
compiles the pass's segment and finish for the whole grid (compiling allocates nothing)
and reads XLA's memory analysis of them; if they fit in MEMORY_SHARE of every device's
free memory the grid trains as one chunk (and those compiled programs are the ones that
run), else as many runs per chunk as fit. A resumed pass keeps the chunks it started with.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import jax
import numpy as np
from jax.sharding import NamedSharding

from superjax.core import distributed, host

# Share of the devices' free memory the default chunks may fill: the rest is headroom for
# the metric history, checkpoint copies and what XLA's analysis does not count.
MEMORY_SHARE = 0.5


@dataclasses.dataclass
class Chunk:
  """Runs start..stop-1 of a pass, padded to `padded` and sharded, with their folder of
  checkpoints and the metadata a checkpoint must match to be resumed."""

  start: int
  stop: int
  padded: int
  keys: jax.Array  # (padded, key data) raw key data of each run
  hps: Any
  directory: Path
  meta: dict

  @property
  def runs(self) -> int:
    return self.stop - self.start


def padded(runs: int, devices: int) -> int:
  """`runs` rounded up to a multiple of the device count."""
  return runs + (-runs % devices)


def started_size(state_dir: Path) -> int | None:
  """Runs per chunk of a pass already on disk (None when it has none)."""
  started = sorted(state_dir.glob("runs_*_*")) if state_dir.is_dir() else []
  if not started:
    return None
  first, last = (int(x) for x in started[0].name.split("_")[1:3])
  return last - first


def fitting_size(runs: int, devices: list, device_count: int, bytes_needed: int,
                 data_bytes: int) -> int:
  """Runs per chunk so that one device's share fits in MEMORY_SHARE of its free memory.

  Args:
    runs: runs of the pass.
    devices: this process's devices of the mesh.
    device_count: devices of the mesh, every process's.
    bytes_needed: one device's bytes for the whole grid (XLA's analysis of the compiled
      program: arguments, outputs and temporaries, donated buffers counted once).
    data_bytes: of those, the shared data replicated on every device. It is already on
      the devices when free memory is read, so only the rest must fit in the room.
  """
  room = MEMORY_SHARE * host.free_device_bytes(devices)
  per_device = max(bytes_needed - data_bytes, 1)
  if per_device <= room:
    fit = runs
  else:
    per_run = per_device / (padded(runs, device_count) // device_count)
    fit = int(room // per_run) * device_count
  return min(runs, max(distributed.smallest(fit), device_count))


def pad_and_shard(tree, count: int, sharding: NamedSharding):
  """Pads the leading run axis to `count` by repeating the last run, then shards it."""
  def one(a):
    a = np.asarray(a)
    a = np.concatenate([a, np.repeat(a[-1:], count - a.shape[0], axis=0)])
    return distributed.shard(a, sharding)
  return jax.tree.map(one, tree)


def split(key_data: np.ndarray, hps, size: int, device_count: int, sharding: NamedSharding,
          state_dir: Path, meta: dict):
  """The chunks of `size` runs, in order."""
  runs = key_data.shape[0]
  for start in range(0, runs, size):
    stop = min(start + size, runs)
    count = padded(stop - start, device_count)
    yield Chunk(start, stop, count,
                keys=pad_and_shard(key_data[start:stop], count, sharding),
                hps=pad_and_shard(jax.tree.map(lambda a: np.asarray(a)[start:stop], hps),
                                  count, sharding),
                directory=state_dir / f"runs_{start:07d}_{stop:07d}",
                meta=dict(meta, chunk=[start, stop], padded_runs=count))

"""The sweep engine: trains a whole grid of toy models as one jitted, vmapped program.

For each model kind the flattened grid is split into chunks (all runs in one by default).
A chunk's runs are sharded over every device along one mesh axis ("runs"), padded to a
multiple of the device count by repeating the last run; the padding is dropped from the
results, and since each run depends only on its own hyperparameters and key, results do
not depend on the device count.
A chunk trains in segments of `log_every` steps; between segments the engine reports
progress, records the mean loss of every run and, every `checkpoint_every` steps, saves
the chunk's whole state with orbax. Rerunning on the same directory resumes each chunk
from its newest checkpoint; every random draw is indexed by run and step, so the result
is bit-identical to an uninterrupted run.
"""

from __future__ import annotations

import datetime
import functools
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec

from superjax.core import distributed, rundir
from superjax.core.checkpoint import Checkpoints, abstract_of
from superjax.core.progress import Progress
from superjax.toy import metrics, results, train
from superjax.toy.config import SweepConfig
from superjax.toy.grid import Grid, HParams

RUNS_AXIS = "runs"


def _say(message: str) -> None:
  print(message, file=sys.stderr, flush=True)


class _Program:
  """The jitted, vmapped functions of one model kind (compiled once per shape)."""

  def __init__(self, cfg: SweepConfig, model: str):
    self.cfg, self.model = cfg, model
    # Every leaf of the state and of the hyperparameters leads with the run axis.
    # Auto axis: XLA propagates the run sharding through the program (runs never interact).
    mesh = jax.make_mesh((jax.device_count(),), (RUNS_AXIS,),
                         axis_types=(jax.sharding.AxisType.Auto,))
    self.sharding = NamedSharding(mesh, PartitionSpec(RUNS_AXIS))
    self.init = jax.jit(jax.vmap(functools.partial(train.init_state, cfg, model)),
                        out_shardings=self.sharding)
    self._segments = {}
    self.compile_seconds = 0.0

    def finish(state, hp):
      out = metrics.geometry(state.params["W"])
      out.update(state.params, diverged=state.diverged)
      out.update(train.evaluate(cfg, model, state, hp))
      if state.snapshots is not None:
        out["W_snapshot"] = state.snapshots
      return out

    self.finish = jax.jit(jax.vmap(finish), out_shardings=self.sharding)

  def segment(self, state, hp, start: int, length: int, shared=None):
    """Trains `length` steps from `start`; `shared` = (distinct seeds, slot per run) draws
    each step's random numbers once per seed (see train.train_segment_runs)."""
    key = (length, hp.seed.shape, None if shared is None else shared[0].shape)
    args = (state, hp) + (() if shared is None else shared) + (jnp.int32(start),)
    if key not in self._segments:
      if shared is None:
        fn = jax.jit(jax.vmap(functools.partial(train.train_segment, self.cfg, self.model,
                                                length=length), in_axes=(0, 0, None)),
                     in_shardings=(self.sharding, self.sharding, None),
                     out_shardings=self.sharding)
      else:
        replicated = NamedSharding(self.sharding.mesh, PartitionSpec())
        fn = jax.jit(functools.partial(train.train_segment_runs, self.cfg, self.model,
                                       length=length),
                     in_shardings=(self.sharding, self.sharding, replicated, self.sharding,
                                   None),
                     out_shardings=self.sharding)
      t0 = time.perf_counter()
      self._segments[key] = fn.lower(*args).compile()
      self.compile_seconds += time.perf_counter() - t0
    return self._segments[key](*args)


def _shared_draws(seed: np.ndarray, sharding: NamedSharding):
  """(distinct seeds, slot of each run) for drawing random numbers once per seed, or None
  where that saves nothing: unshared, each device draws only for its own runs."""
  seeds, slot = np.unique(seed, return_inverse=True)
  if len(seeds) * jax.device_count() >= len(seed):
    return None
  replicated = NamedSharding(sharding.mesh, PartitionSpec())
  return (distributed.shard(seeds.astype(np.int32), replicated),
          distributed.shard(slot.astype(np.int32).reshape(-1), sharding))


def _segment_ends(cfg: SweepConfig) -> np.ndarray:
  return np.minimum(np.arange(1, -(-cfg.steps // cfg.log_every) + 1) * cfg.log_every, cfg.steps)


def _shard_runs(hp: HParams, sharding: NamedSharding) -> HParams:
  """Pads the runs to a multiple of the device count and shards them over all devices."""
  pad = -hp.seed.shape[0] % jax.device_count()
  padded = jax.tree.map(lambda a: np.concatenate([a, np.repeat(a[-1:], pad, axis=0)]), hp)
  return jax.tree.map(lambda a: distributed.shard(a, sharding), padded)


def _train_chunk(cfg: SweepConfig, program: _Program, hp: HParams, directory: Path,
                 chunk: tuple[int, int], progress: Progress) -> dict[str, np.ndarray]:
  runs = chunk[1] - chunk[0]
  hp = _shard_runs(hp, program.sharding)
  shared = _shared_draws(distributed.gather(hp.seed), program.sharding)
  padded = hp.seed.shape[0]
  meta = {"config": cfg.replace(description="", figures=(), reports=()).to_dict(),
          "model": program.model, "chunk": list(chunk), "padded_runs": padded}
  state = program.init(hp)
  history = np.full((len(_segment_ends(cfg)), padded), np.nan, np.float32)
  checkpoints = Checkpoints(directory)
  try:
    restored = checkpoints.restore_latest(
        abstract_of({"state": state, "history": history}), meta)
    step = 0
    if restored is not None:
      step, tree = restored
      state, history = tree["state"], np.asarray(tree["history"])
      progress.skip(step * runs)
      if step < cfg.steps:
        _say(f"resumed from step {step} ({program.model}, runs {chunk[0]}..{chunk[1] - 1})")
    saved = step
    diverged = int(np.sum(distributed.gather(state.diverged)[:runs]))
    while step < cfg.steps:
      length = min(cfg.log_every, cfg.steps - step)
      state, loss = program.segment(state, hp, step, length, shared)
      history[step // cfg.log_every] = distributed.gather(loss)
      step += length
      now_diverged = int(np.sum(distributed.gather(state.diverged)[:runs]))
      if now_diverged > diverged:
        _say(f"warning: {now_diverged - diverged} run(s) of {program.model} hit a non-finite "
             f"loss by step {step}; they are frozen at their last finite parameters and "
             "flagged `diverged` in the results")
        diverged = now_diverged
      progress.update(length * runs, note=f"{program.model} step {step}/{cfg.steps}")
      if step - saved >= cfg.checkpoint_every or step == cfg.steps:
        checkpoints.save(step, {"state": state, "history": history}, meta)
        saved = step
  finally:
    checkpoints.close()
  out = {k: distributed.gather(v)[:runs] for k, v in program.finish(state, hp).items()}
  out["loss_history"] = history.T[:runs]
  return out


def run(cfg: SweepConfig, run_dir: str | Path, fresh: bool = False,
        show_progress: bool = True):
  """Trains every run of the sweep (resuming where checkpoints exist) and saves results.

  Returns:
    The results as an xarray.Dataset (see `superjax.results`).
  """
  run_dir = Path(run_dir)
  # One process checks and prepares the directory; the others share its verdict.
  distributed.on_primary(str(run_dir), lambda: rundir.prepare(cfg, run_dir, fresh))
  if (run_dir / rundir.RESULTS_FILE).exists():
    _say(f"{run_dir} already holds the finished run; loading its results")
    return rundir.load(run_dir)
  grid = Grid(cfg)
  started = datetime.datetime.now(datetime.UTC)
  t0 = time.perf_counter()
  progress = Progress(len(cfg.models) * grid.size * cfg.steps, cfg.name,
                      enabled=show_progress and distributed.is_primary())
  outputs, timings = {}, {}
  for model in cfg.models:
    program = _Program(cfg, model)
    t_model = time.perf_counter()
    parts = []
    for chunk in grid.chunks(cfg.chunk_size):
      hp = grid.hparams(*chunk)
      parts.append(_train_chunk(cfg, program, hp, run_dir / "checkpoints" / model /
                                f"runs_{chunk[0]:07d}_{chunk[1]:07d}", chunk, progress))
    outputs[model] = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    timings[model] = {"compile_seconds": round(program.compile_seconds, 3),
                      "train_seconds": round(time.perf_counter() - t_model, 3)}
  dataset = results.build(cfg, grid, outputs, _segment_ends(cfg))
  timings["total_seconds"] = round(time.perf_counter() - t0, 3)
  if distributed.is_primary():
    rundir.save(dataset, run_dir, rundir.manifest(cfg, timings, started))
  distributed.barrier("superjax_saved_results")
  return dataset

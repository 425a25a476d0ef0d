"""Runs a toy-model sweep: every model kind's grid through the core loop, then results.

Each model kind is one program (one compiled shape); its runs are the grid's flat run
axis (superjax.toy.grid), trained by superjax.core.loop with checkpoints under
`state/<model>/` in the run directory. The results are the toy results schema
(superjax.toy.results).
"""

from __future__ import annotations

import datetime
import time
from pathlib import Path

import jax
import numpy as np
import xarray as xr

from superjax.core import distributed, loop, rundir
from superjax.core.progress import Progress
from superjax.toy import results, train
from superjax.toy.config import SweepConfig
from superjax.toy.grid import Grid


def schedule(cfg: SweepConfig) -> loop.Schedule:
  return loop.Schedule(steps=cfg.steps, log_every=cfg.log_every,
                       checkpoint_every=cfg.checkpoint_every, chunk_size=cfg.chunk_size)


def run(cfg: SweepConfig, run_dir: str | Path, fresh: bool = False,
        show_progress: bool = True) -> xr.Dataset:
  """Trains every run of the sweep (resuming where checkpoints exist) and saves results.

  Returns:
    The results as an xarray.Dataset (see `superjax.toy.results`).
  """
  run_dir = Path(run_dir)
  # One process checks and prepares the directory; the others share its verdict.
  distributed.on_primary(str(run_dir), lambda: rundir.prepare(cfg, run_dir, fresh))
  if rundir.is_finished(run_dir):
    loop.say(f"{run_dir} already holds the finished run; loading its results")
    return rundir.load(run_dir)
  grid = Grid(cfg)
  started = datetime.datetime.now(datetime.timezone.utc)
  t0 = time.perf_counter()
  progress = Progress(len(cfg.models) * grid.size * cfg.steps, cfg.name,
                      enabled=show_progress and distributed.is_primary())
  hps = grid.hparams()
  keys = jax.vmap(lambda seed: train.run_key(cfg, seed))(hps.seed)
  outputs, timings = {}, {}
  for model in cfg.models:
    trained = loop.train(train.program(cfg, model), keys, hps, schedule(cfg),
                         run_dir / rundir.STATE_DIR / model,
                         meta={"config": cfg.computed_part()}, progress=progress)
    outputs[model] = dict(trained.outputs, diverged=trained.diverged,
                          loss_history=trained.history["loss"])
    timings[model] = {"compile_seconds": trained.compile_seconds,
                      "train_seconds": trained.seconds}
  dataset = results.build(cfg, grid, outputs, schedule(cfg).segment_ends())
  timings["total_seconds"] = round(time.perf_counter() - t0, 3)
  if distributed.is_primary():
    rundir.save(dataset, run_dir, rundir.manifest(cfg, timings, started))
  distributed.barrier("superjax_saved_results")
  return dataset

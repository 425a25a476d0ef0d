"""Trains a Model's grid through the core loop and labels the results by its axes.

One pass per stage (state/<stage name>; one stage unless the Model has `after`): the
runs are the grid's points in C order over its groups, each run's hp the dict of its axis
values (and, in a later stage, `source`: the earlier run it builds on), each run's key
`keys.run_key(base_seed, seed)` (seed 0 for every run when the grid has no `seed` axis).
The results hold every output of `finish` and every metric's history on the grid's dims,
and `diverged`; an earlier stage's under `<stage name>.<name>`.
"""

from __future__ import annotations

import functools
from pathlib import Path

import jax
import numpy as np
import xarray as xr

from superjax.core import keys, loop, sweeps
from superjax.core import results as results_lib
from superjax.core.errors import SuperjaxError
from superjax.core.progress import Progress
from superjax.custom.config import Model, ModelConfig, leaves

# Models run in this process, by name: a notebook's Model has no file to read its own
# report and figures from when its results are loaded again.
_RUN: dict[str, Model] = {}


def model_of(cfg: ModelConfig) -> Model:
  """The Model behind `cfg`, bound to its schedule and grid (`Model.bound`): the one it was
  made from, else one run in this process, else the MODEL of its file (read once per
  version of the file)."""
  if cfg.model is not None:
    model = cfg.model
  elif cfg.name in _RUN and not cfg.file:
    model = _RUN[cfg.name]
  elif not cfg.file:
    raise SuperjaxError(f"{cfg.name} was defined in Python, not in a file; run it again "
                        "from the Model object (superjax.run(MODEL))")
  else:
    model = load_file(Path(cfg.file))
  return model.bound(cfg)


def load_file(path: str | Path) -> Model:
  """The MODEL a model file defines (`superjax.load_model`)."""
  path = Path(path)
  if not path.is_file():
    raise SuperjaxError(f"model file {path} does not exist")
  stat = path.resolve().stat()
  return _load_file(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=32)
def _load_file(path: str, mtime_ns: int, size: int) -> Model:
  model = getattr(sweeps.execute(Path(path)), "MODEL", None)
  if not isinstance(model, Model):
    raise SuperjaxError(f"{path} defines no MODEL = superjax.Model(...)")
  return model


def work(cfg: ModelConfig) -> int:
  return sum(grid.size * steps for grid, steps in
             zip(cfg.stage_grids(), [s["steps"] for s in cfg.stages] + [cfg.steps]))


def default_finish(state, hp, key, data) -> dict:
  """The final state's leaves, named by their paths."""
  return leaves(state)


def program(model: Model) -> loop.Program:
  init, step = model.functions()
  return loop.Program(name=model.name, init=init, step=step,
                      finish=model.finish or default_finish)


def stage_pass(model: Model, cfg: ModelConfig, run_dir: Path,
               earlier: loop.Pass | None = None) -> loop.Pass:
  """One stage's pass over its grid: runs in C order over its groups, each run's key from
  its seed (keys.run_keys; seed 0 for every run when the grid has no seed axis). A later
  stage's runs get `source`, and its data is made from the `earlier` pass's final states,
  read back from that pass's checkpoints (it must have finished)."""
  grid = model.axes
  hps = grid.hparams()
  seeds = hps["seed"] if "seed" in hps else np.zeros(grid.size, np.int32)
  if model.after is None:
    data = model.data() if model.data is not None else None
  else:
    hps["source"] = grid.run_index(model.after.axes.dims)
    states = earlier.final_states()
    data = model.data(states) if model.data is not None else states
  return loop.Pass(program(model), keys.run_keys(cfg.base_seed, seeds), hps,
                   model.schedule(), run_dir, data=data, meta={"config": cfg.computed_part()})


def passes(cfg: ModelConfig, run_dir: Path):
  """Every stage's pass, earliest first (a generator: a later stage's pass is made when
  asked for, from the earlier pass's checkpoints, so train each before asking for the
  next)."""
  earlier = None
  for model in model_of(cfg).stages():
    earlier = stage_pass(model, cfg, run_dir, earlier)
    yield earlier


def run(cfg: ModelConfig, run_dir: Path, progress: Progress) -> tuple[xr.Dataset, dict]:
  model = model_of(cfg)
  _RUN[cfg.name] = model
  trained, timings = {}, {}
  for stage, pass_ in zip(model.stages(), passes(cfg, run_dir)):
    check_names(stage, pass_)
    trained[stage.name] = pass_.train(progress)
    timings[stage.name] = trained[stage.name].timings()
  return results(model, trained, cfg.description or cfg.name), timings


def check_names(model: Model, pass_: loop.Pass) -> None:
  """Before any training: init, step and finish make what the loop expects (core.loop's
  one-line errors), and neither the metrics nor finish's outputs take a name the results
  give the grid's axes and the loop's flags."""
  _, metrics, outputs = loop.check_program(pass_)
  taken = set(model.axes.names) | {"step", "diverged", "source"}
  for kind, names in (("metric", metrics), ("finish output", outputs)):
    for name in names:
      if name in taken or (kind == "finish output" and name.endswith("_history")):
        raise SuperjaxError(f"{model.name}: the {kind} {name!r} takes a name the results "
                            f"use for an axis or the loop ({', '.join(sorted(taken))}, "
                            "*_history); rename it")


def results(model: Model, trained: dict[str, loop.Trained], description: str) -> xr.Dataset:
  """Every stage's outputs and metric histories on its grid's dims (core.results.label),
  an output's own axes named by the stage's `dims`; an earlier stage's variables, and its
  `step` axis, named `<stage name>.<name>`."""
  parts = []
  for stage in model.stages():
    done = trained[stage.name]
    part = results_lib.label(stage.axes, done.outputs, done.history, done.diverged,
                             done.segment_ends, dims=stage.dims,
                             attrs={"description": description})
    if stage is not model:
      own = [n for n in part.variables if n not in stage.axes.names]
      part = part.rename({n: f"{stage.name}.{n}" for n in own})
      part.attrs = {}
    parts.append(part)
  return xr.merge(parts[::-1], combine_attrs="override", join="exact")


def tiny() -> ModelConfig:
  """A per-run quadratic minimised by gradient descent: 8 runs, 2,000 steps (20
  checkpoints, so a kill lands inside the pass)."""
  import jax.numpy as jnp

  from superjax.core.axes import product

  def init(key, hp, data):
    return {"x": jax.random.normal(key, (3,))}

  def step(state, hp, key, t, data):
    loss = 0.5 * hp["curvature"] * jnp.sum(state["x"] ** 2)
    return {"x": state["x"] * (1 - hp["lr"] * hp["curvature"])}, {"loss": loss}

  model = Model(name="tiny_quadratic", init=init, step=step, steps=2000, log_every=100,
                checkpoint_every=100,
                axes=product(seed=range(2), lr=[0.05, 0.1], curvature=[1.0, 2.0]))
  return model.config(file="")

"""Trains a Model's grid through the core loop and labels the results by its axes.

One pass (state/<name>): the runs are the grid's points in C order over its groups, each
run's hp the dict of its axis values, each run's key `keys.run_key(base_seed, seed)` (seed
0 for every run when the grid has no `seed` axis). The results hold every output of
`finish` and every metric's history on the grid's dims, and `diverged`.
"""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np
import xarray as xr

from superjax.core import keys, loop, sweeps
from superjax.core.errors import SuperjaxError
from superjax.core.progress import Progress
from superjax.custom.config import Model, ModelConfig, leaves


# Models run in this process, by name: a notebook's Model has no file to read its own
# report and figures from when its results are loaded again.
_RUN: dict[str, Model] = {}


def model_of(cfg: ModelConfig) -> Model:
  """The Model behind `cfg`: the one it was made from, else one run in this process, else
  read again from its file."""
  if cfg.model is not None:
    return cfg.model
  if cfg.name in _RUN and not cfg.file:
    return _RUN[cfg.name]
  if not cfg.file:
    raise SuperjaxError(f"{cfg.name} was defined in Python, not in a file; run it again "
                        "from the Model object (superjax.run(MODEL))")
  return load_file(Path(cfg.file))


def load_file(path: Path) -> Model:
  """The MODEL a model file defines."""
  if not path.is_file():
    raise SuperjaxError(f"model file {path} does not exist")
  model = getattr(sweeps.execute(path), "MODEL", None)
  if not isinstance(model, Model):
    raise SuperjaxError(f"{path} defines no MODEL = superjax.Model(...)")
  return model


def work(cfg: ModelConfig) -> int:
  return cfg.grid().size * cfg.steps


def default_finish(state, hp, key, data) -> dict:
  """The final state's leaves, named by their paths."""
  return leaves(state)


def program(model: Model) -> loop.Program:
  return loop.Program(name=model.name, init=model.init, step=model.step,
                      finish=model.finish or default_finish)


def run(cfg: ModelConfig, run_dir: Path, progress: Progress) -> tuple[xr.Dataset, dict]:
  model = model_of(cfg)
  grid = cfg.grid()
  hps = grid.hparams()
  seeds = hps["seed"] if "seed" in hps else np.zeros(grid.size, np.int32)
  schedule = loop.Schedule(steps=cfg.steps, log_every=min(cfg.log_every, cfg.steps),
                           checkpoint_every=cfg.checkpoint_every, chunk_size=cfg.chunk_size)
  data = model.data() if model.data is not None else None
  run_keys = keys.run_keys(cfg.base_seed, seeds)
  check_names(model, grid, run_keys[0], {k: v[0] for k, v in hps.items()}, data)
  _RUN[cfg.name] = model
  trained = loop.Pass(program(model), run_keys, hps, schedule, run_dir, data=data,
                      meta={"config": cfg.computed_part()}).train(progress)
  return results(cfg, trained), {model.name: trained.timings()}


def check_names(model: Model, grid, key, hp: dict, data) -> None:
  """Before any training: the step's metrics are scalars and neither they nor finish's
  outputs take a name the results give the grid's axes and the loop's flags."""
  state = jax.eval_shape(model.init, key, hp, data)
  _, metrics = jax.eval_shape(model.step, state, hp, keys.step_key(key, 0), 0, data)
  outputs = jax.eval_shape(model.finish or default_finish, state, hp, key, data)
  taken = set(grid.names) | {"step", "diverged"}
  for kind, names in (("metric", metrics), ("finish output", outputs)):
    for name in names:
      if name in taken or (kind == "finish output" and name.endswith("_history")):
        raise SuperjaxError(f"{model.name}: the {kind} {name!r} takes a name the results "
                            f"use for an axis or the loop ({', '.join(sorted(taken))}, "
                            "*_history); rename it")
  for name, value in metrics.items():
    if value.shape != ():
      raise SuperjaxError(f"{model.name}: metric {name!r} has shape {value.shape}; step "
                          "must return scalar metrics")


def results(cfg: ModelConfig, trained: loop.Trained) -> xr.Dataset:
  """Every output and metric history on the grid's dims (runs in C order)."""
  grid = cfg.grid()
  shape, dims = grid.shape, grid.dims
  variables = {}
  for name, value in trained.outputs.items():
    value = np.asarray(value)
    extra = tuple(f"{name}_dim{i}" for i in range(value.ndim - 1))
    variables[name] = (dims + extra, value.reshape(shape + value.shape[1:]))
  for metric, history in trained.history.items():
    variables[f"{metric}_history"] = (dims + ("step",),
                                      history.reshape(shape + history.shape[1:]))
  variables["diverged"] = (dims, trained.diverged.reshape(shape))
  coords = dict(grid.coords(), step=trained.segment_ends)
  return xr.Dataset(variables, coords=coords,
                    attrs={"description": cfg.description or cfg.name,
                           "metrics": ",".join(sorted(trained.history))})


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

"""Your own model as a grid: `Model`, what a model file defines, and the `ModelConfig`
the run directory keeps of it.

A model file is a Python file that defines `MODEL = superjax.Model(...)`: ONE run's
`init`, `step` and `finish` (or a loss and an optax optimizer, `Model.from_loss`), the
grid's named axes, and the schedule. `superjax run my_model.py` trains it; so does
`superjax.run(MODEL)` from Python. `--set steps=500` changes the schedule and
`--set lr=1e-3,1e-2` an axis's values; shapes (widths, batch sizes) are the file's own.

A study in stages (toy models, then SAEs on them) is Models chained by `after`: each
stage trains its own pass of the loop, and a later stage reads the earlier one's final
states from its checkpoints.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any, ClassVar

import jax
import numpy as np
import optax

from superjax.core import axes as axes_lib
from superjax.core import precision as precision_lib
from superjax.core.config import Config, ConfigError, check, check_int, parse_value
from superjax.core.loop import Schedule


@dataclasses.dataclass(frozen=True)
class Model:
  """A model of ONE run and the grid it trains over.

  Attributes:
    name: names the run directory (checkpoints/<name>) and the results.
    init: (key, hp, data) -> state, a pytree of arrays. `hp` is a dict of this run's
      axis values, each a traced scalar; `key` the run's PRNG key (runs of one seed share
      it); `data` what `data` below returns (None without it).
    step: (state, hp, key, t, data) -> (state, metrics): step t (a traced int32) with its
      own key; metrics a dict of scalars (any names; every one is logged per segment and
      checked for divergence).
    axes: the grid (superjax.product / superjax.zipped). A `seed` axis gives each seed
      its own key; runs that differ only in other axes share theirs.
    steps, log_every, checkpoint_every: the schedule (log_every: steps per segment, each
      metric's mean per segment is kept).
    finish: (state, hp, key, data) -> {name: array}: what the results keep of a trained
      run; by default the final state's leaves.
    data: () -> arrays every run reads (a data set, a fixed embedding), made once and
      replicated on every device, never copied per run.
    chunk_size: runs trained at once (0: as many as fit in memory).
    base_seed: the base of every key.
    report: optional (dataset) -> text printed after a run (default: a table of each
      metric's final value over the grid).
    figures: optional (dataset) -> {name: Figure} (default: each metric against the
      first non-seed axis and its training curves).
    description: one line for the results and their report (`superjax list` shows a model
      file's docstring).
    dims: {output name: names of its own axes}, for finish's outputs with axes beyond
      the grid's (default `<name>_dim<i>`), e.g. {"W": ("neuron", "feature")}.
    precision: the matmul precision the model needs on accelerators ("highest", "high"
      or "default"; core.precision); `--precision` overrides it.
    schedule_program: set by `from_loss`: schedule -> (init, step) built for the run's
      schedule (so an optimizer's learning-rate schedule follows `--set steps`).
    after: the Model this one builds on, a study's earlier stage (models, then SAEs on
      them). It trains first, in its own pass (state/<its name>). This Model's axes must
      hold every axis of the earlier one with the same values
      (`superjax.product(*EARLIER.axes.groups, l1=[...])`), and each run's
      hp["source"] is the index of the earlier run it builds on. `data` then takes the
      earlier stage's final states (every run's, runs first, as numpy arrays read back
      from its checkpoints) and returns what every run reads; without `data` those
      states are the data. The results hold the earlier stage's outputs too, named
      `<its name>.<output>`.
  """

  name: str
  init: Callable[..., Any]
  step: Callable[..., tuple[Any, dict[str, jax.Array]]]
  axes: axes_lib.Axes
  steps: int
  log_every: int = 100
  checkpoint_every: int = 1000
  finish: Callable[..., dict[str, jax.Array]] | None = None
  data: Callable[[], Any] | None = None
  chunk_size: int = 0
  base_seed: int = 0
  report: Callable | None = None
  figures: Callable | None = None
  description: str = ""
  dims: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
  precision: str = "highest"
  schedule_program: Callable[[Schedule], tuple[Callable, Callable]] | None = None
  after: Model | None = None

  def __post_init__(self):
    precision_lib.check(self.precision, f"model {self.name!r}")
    if self.after is not None and not isinstance(self.after, Model):
      raise ConfigError(f"model {self.name!r}: after= takes the earlier stage's Model, not "
                        f"{type(self.after).__name__}")

  def stages(self) -> list[Model]:
    """The study's Models in training order: the earliest stage first, this one last."""
    return (self.after.stages() if self.after is not None else []) + [self]

  @classmethod
  def from_loss(cls, name: str, init_params: Callable, loss: Callable,
                optimizer: Callable[[dict], optax.GradientTransformation], axes: axes_lib.Axes,
                steps: int, **options) -> Model:
    """A model trained by gradient steps on `loss`.

    Args:
      init_params: (key, hp, data) -> params.
      loss: (params, hp, key, data) -> scalar loss, or (loss, {name: scalar}) for more
        metrics; `key` is the step's key (draw the step's batch from it).
      optimizer: hp -> an optax transformation (hp's values are traced, so a learning
        rate may be an axis: `lambda hp: optax.adam(hp["lr"])`), or (hp, schedule) -> one,
        where `schedule` is the run's core.loop.Schedule (its `steps` follow `--set
        steps`: `lambda hp, s: optax.adam(optax.cosine_decay_schedule(hp["lr"], s.steps))`).
      options: the other fields of Model (log_every, finish, data, ...); by default
        finish keeps the trained params.
    """
    with_schedule = len(inspect.signature(optimizer).parameters) >= 2

    def schedule_program(schedule: Schedule) -> tuple[Callable, Callable]:
      make = (lambda hp: optimizer(hp, schedule)) if with_schedule else optimizer

      def init(key, hp, data):
        params = init_params(key, hp, data)
        return {"params": params, "opt_state": make(hp).init(params)}

      def step(state, hp, key, t, data):
        def objective(params):
          out = loss(params, hp, key, data)
          return out if isinstance(out, tuple) else (out, {})
        (value, extra), grads = jax.value_and_grad(objective, has_aux=True)(state["params"])
        updates, opt_state = make(hp).update(grads, state["opt_state"], state["params"])
        params = optax.apply_updates(state["params"], updates)
        return {"params": params, "opt_state": opt_state}, dict(extra, loss=value)

      return init, step

    options.setdefault("finish", lambda state, hp, key, data: leaves(state["params"]))
    init, step = schedule_program(Schedule(steps, options.get("log_every", 100),
                                           options.get("checkpoint_every", 1000)))
    return cls(name=name, init=init, step=step, axes=axes, steps=steps,
               schedule_program=schedule_program, **options)

  def schedule(self) -> Schedule:
    """The run's schedule (core.loop.Schedule)."""
    return Schedule(steps=self.steps, log_every=min(self.log_every, self.steps),
                    checkpoint_every=self.checkpoint_every, chunk_size=self.chunk_size)

  def functions(self) -> tuple[Callable, Callable]:
    """(init, step) for this Model's schedule."""
    if self.schedule_program is not None:
      return self.schedule_program(self.schedule())
    return self.init, self.step

  def bound(self, cfg: ModelConfig) -> Model:
    """This Model (and its earlier stages) with `cfg`'s schedules, grids and base seed
    (what `--set` changed)."""
    earlier = self.after
    if earlier is not None:
      if len(cfg.stages) != len(self.stages()) - 1:
        raise ConfigError(f"{cfg.name}: the run directory's config has {len(cfg.stages)} "
                          f"earlier stages, the model {len(self.stages()) - 1}")
      earlier = earlier.bound(dataclasses.replace(
          cfg, **_stage_fields(cfg.stages[-1]), stages=cfg.stages[:-1], model=None))
    return dataclasses.replace(
        self, steps=cfg.steps, log_every=cfg.log_every, checkpoint_every=cfg.checkpoint_every,
        chunk_size=cfg.chunk_size, base_seed=cfg.base_seed, axes=cfg.grid(),
        precision=cfg.precision, after=earlier)

  def config(self, file: str = "") -> ModelConfig:
    """The config a run directory keeps (`file`: the model file it came from)."""
    stages = tuple({"name": m.name, "steps": m.steps, "log_every": m.log_every,
                    "checkpoint_every": m.checkpoint_every, "chunk_size": m.chunk_size,
                    "axes": m.axes.to_json()} for m in self.stages()[:-1])
    return ModelConfig(name=self.name, file=file, steps=self.steps, log_every=self.log_every,
                       checkpoint_every=self.checkpoint_every, chunk_size=self.chunk_size,
                       base_seed=self.base_seed, axes=tuple(self.axes.to_json()),
                       description=self.description, precision=self.precision,
                       stages=stages, model=self)


# What a run directory keeps of each earlier stage of a study (ModelConfig.stages).
STAGE_FIELDS = ("name", "steps", "log_every", "checkpoint_every", "chunk_size", "axes")


def _stage_fields(stage: dict) -> dict:
  return dict(stage, axes=tuple(stage["axes"]))


def leaves(tree) -> dict[str, jax.Array]:
  """A pytree's leaves named by their paths ("W", "layers.0.b", ...)."""
  flat = jax.tree_util.tree_flatten_with_path(tree)[0]
  name = lambda path: ".".join(str(getattr(k, "key", getattr(k, "idx", k))) for k in path)
  return {name(path) or "value": leaf for path, leaf in flat}


# Names the results use beside a model's own: no axis may take them ("source" is a later
# stage's index of its earlier run).
RESERVED = ("step", "diverged", "cell", "source")


@dataclasses.dataclass(frozen=True)
class ModelConfig(Config):
  """What a run directory keeps of a Model: its schedule, grid and file.

  The functions are not stored: a resumed or reported run reads them from `file` again
  (a model made in a notebook has no file; its results still load, report and draw with
  the default report and figures)."""

  EXPERIMENT: ClassVar[str] = "custom"

  name: str
  file: str = ""
  steps: int = 1000
  log_every: int = 100
  checkpoint_every: int = 1000
  chunk_size: int = 0
  base_seed: int = 0
  axes: tuple = ()
  description: str = ""
  precision: str = "highest"
  # A study's earlier stages, earliest first: {name, steps, log_every, checkpoint_every,
  # chunk_size, axes} each (Model.after).
  stages: tuple = ()
  model: Model | None = dataclasses.field(default=None, compare=False, repr=False)

  def validate(self) -> None:
    check_int(self, "steps", 1)
    check_int(self, "log_every", 1)
    check_int(self, "checkpoint_every", 1)
    check_int(self, "chunk_size", 0)
    check_int(self, "base_seed", 0)
    check(len(self.axes) > 0, "axes", "a grid needs at least one axis")
    check(self.precision in precision_lib.PRECISIONS, "precision",
          f"{self.precision!r} is not one of {', '.join(precision_lib.PRECISIONS)}")
    grid = self.grid()
    fields = {f.name for f in dataclasses.fields(self)}
    for name in grid.names:
      check(name not in fields and name not in RESERVED and not name.endswith("_history"),
            name, f"is a name the run or its results use ({', '.join(sorted(fields))}, "
            f"{', '.join(RESERVED)}, *_history); rename the axis")
    for group in grid.groups:
      values = group.values[group.dim]
      check(len(set(values)) == len(values), group.dim,
            f"{list(values)} repeats a value: a results axis needs distinct labels (in a "
            "zipped group, put a member whose values differ first)")
    if "seed" in grid.names:
      seeds = grid.hparams()["seed"]
      check(seeds.dtype.kind == "i" and seeds.min() >= 0, "seed",
            "seeds must be integers >= 0")
    self._validate_stages()

  def _validate_stages(self) -> None:
    """Each earlier stage is a valid config of its own, its name is the study's alone,
    and every one of its axes is an axis of the next stage, with the same values."""
    names = [self.name]
    later = self.grid()
    for stage in reversed(self.stages):
      check(isinstance(stage, dict) and set(stage) == set(STAGE_FIELDS), "stages",
            f"each earlier stage needs exactly {', '.join(STAGE_FIELDS)}")
      earlier = dataclasses.replace(self, **_stage_fields(stage), stages=())
      earlier.validate()
      check(earlier.name not in names, "stages",
            f"two stages are named {earlier.name!r}; each trains its own pass")
      names.append(earlier.name)
      groups = {g.dim: g for g in later.groups}
      for group in earlier.grid().groups:
        check(groups.get(group.dim) == group, group.dim,
              f"stage {earlier.name!r}'s axis is not an axis of the stage after it with the "
              "same values; build the later axes as superjax.product(*EARLIER.axes.groups, ...)")
      later = earlier.grid()

  def stage_grids(self) -> list[axes_lib.Axes]:
    """Every stage's grid, the earliest first and this config's last."""
    return [axes_lib.Axes.from_json(s["axes"]) for s in self.stages] + [self.grid()]

  def grid(self) -> axes_lib.Axes:
    return axes_lib.Axes.from_json(self.axes)

  def to_dict(self) -> dict[str, Any]:
    out = super().to_dict()
    out.pop("model")
    out["axes"] = self.grid().to_json()
    out["stages"] = [dict(s, axes=axes_lib.Axes.from_json(s["axes"]).to_json())
                     for s in self.stages]
    return out

  @classmethod
  def from_dict(cls, data: dict[str, Any]):
    data = dict(data)
    data["axes"] = [dict(group) for group in data.get("axes", ())]  # not tuples of pairs
    data["stages"] = [dict(stage) for stage in data.get("stages", ())]
    return super().from_dict(data)

  def with_overrides(self, assignments: list[str]):
    """`key=value` strings: a field of the schedule, or an axis's new values."""
    fields = {f.name: f for f in dataclasses.fields(self) if f.name != "model"}
    cfg = self
    for assignment in assignments:
      key, sep, text = assignment.partition("=")
      key, text = key.strip(), text.strip()
      if not sep:
        raise ConfigError(f"--set {assignment!r}: expected key=value")
      if key in ("axes", "model", "stages"):
        raise ConfigError(f"--set {key}: set one axis by its name instead "
                          f"({', '.join(cfg.grid().names)})")
      if key in fields:
        cfg = cfg.replace(**{key: parse_value(fields[key], text)})
      elif key in cfg.grid().names:
        try:
          values = parse_value(_NUMBERS, text)
        except ConfigError:
          raise ConfigError(f"{key}: cannot read {text!r}; expected a comma-separated list "
                            "of numbers or linspace/logspace/geomspace(start,stop,num)") from None
        cfg = cfg.with_values({key: values})
      else:
        known = sorted(set(fields) - {"axes", "model", "stages"}) + cfg.grid().names
        raise ConfigError(f"unknown config key {key!r}; known keys: {', '.join(known)}")
    return cfg

  def with_values(self, values: dict[str, Any]):
    """Python values for schedule fields or axes (an axis takes a list of numbers)."""
    cfg = self
    for key, value in values.items():
      if key in cfg.grid().names:
        if np.ndim(value) == 0 and not isinstance(value, str):
          value = (np.asarray(value).item(),)
        if isinstance(value, str):
          return cfg.with_overrides([f"{key}={value}"]).with_values(
              {k: v for k, v in values.items() if k != key})
        value = tuple(value) if not isinstance(value, (int, float)) else (value,)
        if _is_int_axis(cfg.grid(), key) and all(float(v).is_integer() for v in value):
          value = tuple(int(v) for v in value)
        cfg = cfg.replace(axes=tuple(cfg.grid().with_values(key, value).to_json()),
                          # the earlier stages that share the axis share its new values
                          stages=tuple(_with_axis(s, key, value) for s in cfg.stages))
      elif key not in {f.name for f in dataclasses.fields(cfg)} - {"axes", "model", "stages"}:
        known = sorted({f.name for f in dataclasses.fields(cfg)} - {"axes", "model", "stages"})
        raise ConfigError(f"unknown config key {key!r}; known keys: "
                          f"{', '.join(known + cfg.grid().names)}")
      elif isinstance(value, str) and key not in ("file", "name", "description"):
        cfg = cfg.with_overrides([f"{key}={value}"])
      else:
        cfg = cfg.replace(**{key: value})
    return cfg


def _with_axis(stage: dict, name: str, values: tuple) -> dict:
  grid = axes_lib.Axes.from_json(stage["axes"])
  if name not in grid.names:
    return stage
  return dict(stage, axes=grid.with_values(name, values).to_json())


@dataclasses.dataclass
class _NumberList:
  a: tuple[float, ...]


_NUMBERS = dataclasses.fields(_NumberList)[0]


def _is_int_axis(grid: axes_lib.Axes, name: str) -> bool:
  return grid.hparams()[name].dtype.kind == "i"

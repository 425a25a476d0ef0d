"""Sweep configuration: static settings and the grid axes, validated when built.

A `SweepConfig` is plain Python (no JAX): sweep files build one, the CLI overrides its
fields with `--set key=value`, and the engine reads it. Every validation error names the
field and the allowed values in one line.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from typing import Any

import numpy as np

from superjax.errors import SuperjaxError

MODELS = ("linear", "relu", "hidden_relu", "abs")
CORRELATIONS = ("independent", "correlated", "anticorrelated")
ATTACKS = ("analytic", "gorton", "pgd", "random")
OPTIMIZERS = ("adamw", "adam", "sgd")
SCHEDULES = ("constant", "cosine", "warmup", "warmup_cosine")

# Fields that describe how results are presented, not how they are computed: a run may be
# resumed with them changed.
PRESENTATION_FIELDS = ("description", "figures", "reports")


class ConfigError(SuperjaxError):
  """Bad user input; the message is one line that names the field."""


class ConfigMethods:
  """What every experiment's frozen config dataclass shares: copies, JSON, comparison."""

  def replace(self, **changes):
    return dataclasses.replace(self, **changes)

  def to_dict(self) -> dict[str, Any]:
    return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v)
            for f in dataclasses.fields(self)}

  def to_json(self) -> str:
    return json.dumps(self.to_dict(), indent=2)

  @classmethod
  def from_dict(cls, data: dict[str, Any]):
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
      raise ConfigError(f"unknown config key {unknown[0]!r}; known keys: {', '.join(sorted(known))}")
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})

  def differences(self, other) -> list[str]:
    """Names of fields that change what is computed and differ between the two."""
    return [f.name for f in dataclasses.fields(self)
            if f.name not in PRESENTATION_FIELDS
            and getattr(self, f.name) != getattr(other, f.name)]

  def with_overrides(self, assignments: list[str]):
    """Applies `key=value` strings, as given to `--set`."""
    return apply_overrides(self, assignments)


@dataclasses.dataclass(frozen=True)
class SweepConfig(ConfigMethods):
  """Everything that defines a sweep.

  Grid axes (`density`, `relative_density`, `importance`, `relative_importance`,
  `correlation`, `alpha`, `lr`, and `seeds` seeds) are tuples; the engine trains their Cartesian
  product as one vmapped program per model kind. Feature i of a run has density `density`
  (times `relative_density` for the last feature) and importance `importance**i` (times
  `relative_importance` for the last feature). With `set_size` k > 0 the features form
  consecutive sets of k whose members are, per the run's `correlation`, independent,
  correlated (the whole set fires together) or anticorrelated (at most one fires).
  """

  name: str
  description: str = ""
  # Static shape and model: one compiled program per (model, n, m, batch).
  models: tuple[str, ...] = ("relu",)
  n: int = 5
  m: int = 2
  batch: int = 1024
  steps: int = 10_000
  # Grid axes.
  density: tuple[float, ...] = (1.0,)
  relative_density: tuple[float, ...] = (1.0,)
  importance: tuple[float, ...] = (1.0,)
  relative_importance: tuple[float, ...] = (1.0,)
  correlation: tuple[str, ...] = ("independent",)
  alpha: tuple[float, ...] = (1.0,)  # weight of the clean loss in adversarial training
  lr: tuple[float, ...] = (1e-3,)
  seeds: int = 1
  # Data.
  signed: bool = False
  set_size: int = 0
  # Optimisation.
  # Adversarial training: loss alpha L(x) + (1 - alpha) L(x + delta), delta from
  # `train_attack` ("none" for clean training) with budget attack_eps x the mean input
  # norm of the batch (x each input's own norm with per_sample_eps).
  train_attack: str = "none"
  attack_eps: float = 0.1
  per_sample_eps: bool = False
  # Attacks measured on the held-out batch at the end: adv_loss, vulnerability.
  eval_attacks: tuple[str, ...] = ()
  optimizer: str = "adamw"
  weight_decay: float = 0.01
  schedule: str = "constant"
  warmup_steps: int = 0
  # Engine.
  base_seed: int = 0
  log_every: int = 500
  checkpoint_every: int = 2_500
  chunk_size: int = 0
  eval_batch: int = 8_192
  snapshots: int = 0  # record W at this many log-spaced steps (0: none)
  # Presentation.
  figures: tuple[str, ...] = ()
  reports: tuple[str, ...] = ()

  def __post_init__(self):
    for field in dataclasses.fields(self):
      value = getattr(self, field.name)
      if _is_tuple_field(field) and not isinstance(value, tuple):
        object.__setattr__(self, field.name, tuple(np.atleast_1d(value).tolist()))
    _validate(self)

  @property
  def run_count(self) -> int:
    """Runs per model kind: the size of the grid."""
    return (len(self.density) * len(self.relative_density) * len(self.importance)
            * len(self.relative_importance) * len(self.correlation) * len(self.alpha)
            * len(self.lr) * self.seeds)


def apply_overrides(cfg: Any, assignments: list[str]) -> Any:
  """Applies `key=value` strings (as given to `--set`) to any frozen config dataclass,
  parsing each value by its field's type; the config validates itself when rebuilt."""
  fields = {f.name: f for f in dataclasses.fields(cfg)}
  changes = {}
  for assignment in assignments:
    key, sep, text = assignment.partition("=")
    key = key.strip()
    if not sep:
      raise ConfigError(f"--set {assignment!r}: expected key=value")
    if key not in fields:
      raise ConfigError(f"unknown config key {key!r}; known keys: {', '.join(sorted(fields))}")
    changes[key] = _parse_value(fields[key], text.strip())
  return dataclasses.replace(cfg, **changes)


def _is_tuple_field(field: dataclasses.Field) -> bool:
  return str(field.type).startswith("tuple")


_SPACE = re.compile(r"^(linspace|logspace|geomspace)\(([^)]*)\)$")


def _parse_value(field: dataclasses.Field, text: str) -> Any:
  kind = str(field.type)
  try:
    if kind.startswith("tuple[str"):
      return tuple(s.strip() for s in text.split(",") if s.strip())
    if kind.startswith("tuple"):
      space = _SPACE.match(text.replace(" ", ""))
      if space:
        fn, args = space.groups()
        start, stop, num = (float(a) for a in args.split(","))
        return tuple(getattr(np, fn)(start, stop, int(num)).tolist())
      numbers = tuple(float(s) for s in text.strip("[]()").split(",") if s.strip())
      if kind.startswith("tuple[int"):
        if not all(x.is_integer() for x in numbers):
          raise ValueError(text)
        return tuple(int(x) for x in numbers)
      return numbers
    if kind == "bool":
      if text.lower() in ("1", "true", "yes"):
        return True
      if text.lower() in ("0", "false", "no"):
        return False
      raise ValueError(text)
    if kind == "int":
      return int(float(text)) if float(text).is_integer() else int(text)
    if kind == "float":
      return float(text)
    return text
  except ValueError:
    hint = ("a comma-separated list of numbers or linspace/logspace/geomspace(start,stop,num)"
            if kind.startswith("tuple") else f"a value of type {kind}")
    raise ConfigError(f"{field.name}: cannot read {text!r}; expected {hint}") from None


def _validate(cfg: SweepConfig) -> None:
  def check(ok: bool, field: str, message: str):
    if not ok:
      raise ConfigError(f"{field}: {message}")

  check(bool(cfg.name), "name", "must not be empty")
  check(len(cfg.models) > 0, "models", f"need at least one of {', '.join(MODELS)}")
  for model in cfg.models:
    check(model in MODELS, "models", f"{model!r} is not one of {', '.join(MODELS)}")
  check(len(set(cfg.models)) == len(cfg.models), "models", "each model kind at most once")
  for name, low in (("n", 1), ("m", 1), ("batch", 1), ("steps", 1), ("seeds", 1),
                    ("log_every", 1), ("checkpoint_every", 1), ("eval_batch", 1),
                    ("chunk_size", 0), ("warmup_steps", 0), ("base_seed", 0),
                    ("set_size", 0), ("snapshots", 0)):
    value = getattr(cfg, name)
    check(isinstance(value, int) and not isinstance(value, bool) and value >= low, name,
          f"{value!r} must be an integer >= {low}")
  check(cfg.warmup_steps < cfg.steps or cfg.warmup_steps == 0, "warmup_steps",
        f"{cfg.warmup_steps} must be smaller than steps ({cfg.steps})")
  check(cfg.warmup_steps > 0 or not cfg.schedule.startswith("warmup"), "warmup_steps",
        f"must be >= 1 with schedule {cfg.schedule!r}")
  for name in ("density", "relative_density", "importance", "relative_importance", "alpha", "lr"):
    values = getattr(cfg, name)
    check(len(values) > 0, name, "needs at least one value")
    check(len(set(values)) == len(values), name, "values must be distinct")
    for v in values:
      check(isinstance(v, (int, float)) and math.isfinite(v), name, f"{v!r} is not a finite number")
  for v in cfg.density:
    check(0.0 < v <= 1.0, "density", f"{v} is outside the allowed range (0, 1]")
  for name in ("relative_density", "importance", "relative_importance", "lr"):
    for v in getattr(cfg, name):
      check(v > 0, name, f"{v} must be > 0")
  densest = max(cfg.density) * max(cfg.relative_density)
  check(densest <= 1.0, "relative_density",
        f"density x relative_density reaches {densest:g}; it must stay <= 1")
  check(len(cfg.correlation) > 0 and len(set(cfg.correlation)) == len(cfg.correlation),
        "correlation", "needs distinct values")
  for c in cfg.correlation:
    check(c in CORRELATIONS, "correlation", f"{c!r} is not one of {', '.join(CORRELATIONS)}")
  if cfg.set_size:
    check(cfg.n % cfg.set_size == 0, "set_size",
          f"{cfg.set_size} must divide n ({cfg.n}) so the features form whole sets")
  else:
    check(cfg.correlation == ("independent",), "set_size",
          "must be >= 1 when correlation includes correlated or anticorrelated sets")
  if "anticorrelated" in cfg.correlation:
    total = cfg.set_size * max(max(cfg.density) * max(1.0, max(cfg.relative_density)), 0)
    check(total <= 1.0, "density",
          f"anticorrelated sets of {cfg.set_size} need set_size x density <= 1 (got {total:g})")
  for v in cfg.alpha:
    check(0.0 <= v <= 1.0, "alpha", f"{v} is outside the allowed range [0, 1]")
  check(cfg.train_attack in ("none",) + ATTACKS, "train_attack",
        f"{cfg.train_attack!r} is not one of none, {', '.join(ATTACKS)}")
  check(cfg.train_attack != "none" or cfg.alpha == (1.0,), "alpha",
        "values other than 1 need a train_attack (alpha < 1 weights adversarial inputs)")
  for attack in cfg.eval_attacks:
    check(attack in ATTACKS, "eval_attacks", f"{attack!r} is not one of {', '.join(ATTACKS)}")
  check(len(set(cfg.eval_attacks)) == len(cfg.eval_attacks), "eval_attacks", "each at most once")
  check(math.isfinite(cfg.attack_eps) and cfg.attack_eps > 0, "attack_eps",
        f"{cfg.attack_eps} must be > 0")
  check(cfg.snapshots <= cfg.steps, "snapshots", f"{cfg.snapshots} must be <= steps ({cfg.steps})")
  check(math.isfinite(cfg.weight_decay) and cfg.weight_decay >= 0, "weight_decay",
        f"{cfg.weight_decay} must be >= 0")
  check(cfg.optimizer in OPTIMIZERS, "optimizer",
        f"{cfg.optimizer!r} is not one of {', '.join(OPTIMIZERS)}")
  check(cfg.schedule in SCHEDULES, "schedule",
        f"{cfg.schedule!r} is not one of {', '.join(SCHEDULES)}")
  check(isinstance(cfg.signed, bool), "signed", "must be true or false")

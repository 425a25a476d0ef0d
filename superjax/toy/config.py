"""The toy-model sweep's config: static shapes and settings, and the grid axes.

A `SweepConfig` is plain Python (no JAX): sweep files build one, the CLI overrides its
fields with `--set key=value`, and the toy family's run reads it. Every validation error
names the field and the allowed values in one line.
"""

from __future__ import annotations

import dataclasses
import math

from superjax.core import axes as axes_lib
from superjax.core.config import Config, check, check_choices, check_int, is_int

MODELS = ("linear", "relu", "hidden_relu", "abs")
CORRELATIONS = ("independent", "correlated", "anticorrelated")
ATTACKS = ("analytic", "analytic_random", "gorton", "pgd", "random")
OPTIMIZERS = ("adamw", "adam", "sgd")
SCHEDULES = ("constant", "cosine", "warmup", "warmup_cosine")
GRADIENTS = ("hand", "autodiff")
# The names toy/figures.py and toy/report.py draw and print (a test keeps them in step),
# checked here so a bad name is refused before anything runs.
FIGURES = ("intro", "features_per_dim", "phase_n2m1", "phase_n3m2", "geometry", "nonuniform",
           "trajectory", "neuron_weights", "neuron_stacks", "vulnerability",
           "superposition_graph", "robust_geometry")
# The grid's axes in run order (the last varies fastest). `density` and `seed` are always
# dims of the results; the others only when they take several values.
GRID_AXES = ("density", "relative_density", "importance", "relative_importance", "correlation",
             "alpha", "train_eps", "lr", "seed")
ALWAYS_DIMS = ("density", "seed")
REPORTS = ("adversarial", "budgets", "features_per_dim", "phase_n2m1", "phase_n3m2",
           "seed_spread", "sticky", "configurations", "correlations", "polysemanticity",
           "baseline_ratio", "inhibition", "sides")


@dataclasses.dataclass(frozen=True)
class SweepConfig(Config):
  """Everything that defines a sweep.

  Grid axes (`density`, `relative_density`, `importance`, `relative_importance`,
  `correlation`, `alpha`, `train_eps`, `lr`, and `seeds` seeds) are tuples; the toy family
  trains their Cartesian product as one vmapped program per model kind. Feature i of a run
  has density `density` (times `relative_density` for the last feature) and importance
  `importance**i` (times `relative_importance` for the last feature). With `set_size` k > 0
  the features form consecutive sets of k whose members are, per the run's `correlation`,
  independent, correlated (the whole set fires together) or anticorrelated (at most one
  fires).
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
  # Budgets of the training attack, x the input norm (see per_sample_eps); 0 trains clean.
  train_eps: tuple[float, ...] = (0.1,)
  lr: tuple[float, ...] = (1e-3,)
  seeds: int = 1
  # Data.
  signed: bool = False
  set_size: int = 0
  # Optimisation.
  # Adversarial training: loss alpha L(x) + (1 - alpha) L(x + delta), delta from
  # `train_attack` ("none" for clean training) with the run's budget train_eps x the mean
  # input norm of the batch (x each input's own norm with per_sample_eps).
  train_attack: str = "none"
  per_sample_eps: bool = False
  # Attacks measured on the held-out batch at the end (adv_loss, vulnerability), with
  # budget attack_eps x the mean input norm (x each input's own with per_sample_eps).
  eval_attacks: tuple[str, ...] = ()
  attack_eps: float = 0.1
  optimizer: str = "adamw"
  weight_decay: float = 0.01
  schedule: str = "constant"
  warmup_steps: int = 0
  # "hand": the batched step with hand-derived gradients (toy/fast.py), the default;
  # "autodiff": the one-model reference step vmapped (toy/train.py). Equal up to float
  # rounding; a sweep training against an attack other than gorton uses autodiff.
  gradients: str = "hand"
  # The core loop: seeds' base, segments, saves, chunks; held-out evaluation.
  base_seed: int = 0
  log_every: int = 500
  checkpoint_every: int = 2_500
  chunk_size: int = 0
  eval_batch: int = 8_192
  snapshots: int = 0  # record the parameters at this many log-spaced steps (0: none)
  # ... and after these step counts, each measured as at the end (several training lengths
  # from one run).
  snapshot_at: tuple[int, ...] = ()
  # Presentation.
  figures: tuple[str, ...] = ()
  reports: tuple[str, ...] = ()

  EXPERIMENT = "toy"

  def validate(self) -> None:
    _validate(self)

  @property
  def run_count(self) -> int:
    """Runs per model kind: the size of the grid."""
    return self.axes().size

  def axes(self) -> axes_lib.Axes:
    """The grid (core.axes), in GRID_AXES order: a run's correlation is its index in
    CORRELATIONS, its seed one of range(seeds)."""
    values = {name: tuple(float(v) for v in getattr(self, name)) for name in GRID_AXES
              if name not in ("correlation", "seed")}
    values.update(correlation=tuple(CORRELATIONS.index(c) for c in self.correlation),
                  seed=tuple(range(self.seeds)))
    return axes_lib.product(**{name: values[name] for name in GRID_AXES})

  @property
  def result_dims(self) -> tuple[str, ...]:
    """The results' grid dims: density, seed and every axis with several values."""
    return self.axes().varying(ALWAYS_DIMS)


def _validate(cfg: SweepConfig) -> None:
  check(len(cfg.models) > 0, "models", f"need at least one of {', '.join(MODELS)}")
  for model in cfg.models:
    check(model in MODELS, "models", f"{model!r} is not one of {', '.join(MODELS)}")
  check(len(set(cfg.models)) == len(cfg.models), "models", "each model kind at most once")
  for name, low in (("n", 1), ("m", 1), ("batch", 1), ("steps", 1), ("seeds", 1),
                    ("log_every", 1), ("checkpoint_every", 1), ("eval_batch", 1),
                    ("chunk_size", 0), ("warmup_steps", 0), ("base_seed", 0),
                    ("set_size", 0), ("snapshots", 0)):
    check_int(cfg, name, low)
  check(cfg.warmup_steps < cfg.steps or cfg.warmup_steps == 0, "warmup_steps",
        f"{cfg.warmup_steps} must be smaller than steps ({cfg.steps})")
  check(cfg.warmup_steps > 0 or not cfg.schedule.startswith("warmup"), "warmup_steps",
        f"must be >= 1 with schedule {cfg.schedule!r}")
  for name in ("density", "relative_density", "importance", "relative_importance", "alpha",
               "train_eps", "lr"):
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
  for v in cfg.train_eps:
    check(v >= 0, "train_eps", f"{v} must be >= 0")
  check(cfg.train_attack != "none" or len(cfg.train_eps) == 1, "train_eps",
        "several budgets need a train_attack")
  for attack in cfg.eval_attacks:
    check(attack in ATTACKS, "eval_attacks", f"{attack!r} is not one of {', '.join(ATTACKS)}")
  check(len(set(cfg.eval_attacks)) == len(cfg.eval_attacks), "eval_attacks", "each at most once")
  check(math.isfinite(cfg.attack_eps) and cfg.attack_eps > 0, "attack_eps",
        f"{cfg.attack_eps} must be > 0")
  check(cfg.snapshots <= cfg.steps, "snapshots", f"{cfg.snapshots} must be <= steps ({cfg.steps})")
  check(len(set(cfg.snapshot_at)) == len(cfg.snapshot_at), "snapshot_at", "values must be distinct")
  for v in cfg.snapshot_at:
    check(is_int(v) and 1 <= v <= cfg.steps, "snapshot_at",
          f"{v!r} must be an integer from 1 to steps ({cfg.steps})")
  check(math.isfinite(cfg.weight_decay) and cfg.weight_decay >= 0, "weight_decay",
        f"{cfg.weight_decay} must be >= 0")
  check(cfg.optimizer in OPTIMIZERS, "optimizer",
        f"{cfg.optimizer!r} is not one of {', '.join(OPTIMIZERS)}")
  check(cfg.schedule in SCHEDULES, "schedule",
        f"{cfg.schedule!r} is not one of {', '.join(SCHEDULES)}")
  check(cfg.gradients in GRADIENTS, "gradients",
        f"{cfg.gradients!r} is not one of {', '.join(GRADIENTS)}")
  check(isinstance(cfg.signed, bool), "signed", "must be true or false")
  for field, known in (("figures", FIGURES), ("reports", REPORTS)):
    check_choices(field, getattr(cfg, field), known, at_least_one=False)


def tiny() -> SweepConfig:
  """A sweep that trains in seconds, long enough in steps that a kill lands mid-run."""
  return SweepConfig(name="tiny_toy", models=("relu",), n=5, m=2, density=(1.0, 0.3, 0.05),
                     seeds=2, importance=(0.9,), steps=3000, batch=64, log_every=50,
                     checkpoint_every=100, eval_batch=256, figures=("intro", "features_per_dim"),
                     reports=("features_per_dim", "seed_spread"))

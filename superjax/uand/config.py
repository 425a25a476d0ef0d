"""The U-AND scaling study's config: feature counts n, hidden widths m, sparsity s,
constructions and input settings, and the trained circuits' settings."""

from __future__ import annotations

import dataclasses
import math

from superjax.core.config import Config, check, check_choices, check_int, check_positive, is_int
from superjax.uand.constructions import CONSTRUCTIONS
from superjax.uand.inputs import ACTIVE_MODES, EMBEDDINGS, INPUTS, input_count

# With every_input, the constructions measured on enumerated inputs (all but U-AND and
# naive on basis inputs, whose worst case is exact without enumeration) take at most this
# many inputs per cell.
EVERY_INPUT_MAX = 20_000


@dataclasses.dataclass(frozen=True)
class UAndConfig(Config):
  """A U-AND scaling study.

  Grid: constructions x inputs x s x n x m x seeds, and p for `uand`. n is the number of
  boolean features, m the hidden width of the layer computing their pairwise ANDs. Inputs
  have s active features (exactly, or at most s with active="at_most"). Superposed inputs
  live in d0 = min(n, ceil(d0_scale * n**d0_exponent)) dimensions (uncapped with
  d0_at_most_n=False: random directions in d0 > n dimensions still interfere). A U-AND neuron reads
  each feature with probability c * n**(-p_exponent) for each coefficient c in `p` (with
  p_exponent = 0, the default, p holds the probabilities themselves).
  """

  EXPERIMENT = "uand"
  RENAMED = {"widths": "m (hidden widths; the feature count is now n)",
             "trained_widths": "trained_m", "fitted_max_width": "fitted_max_m",
             "trained_max_m": "trained_max_n"}

  name: str
  description: str = ""
  constructions: tuple[str, ...] = CONSTRUCTIONS
  inputs: tuple[str, ...] = INPUTS
  n: tuple[int, ...] = (16, 32, 64, 128, 256, 512)
  s: tuple[int, ...] = (2,)
  active: str = "exact"
  m: tuple[int, ...] = tuple(2 ** k for k in range(5, 15))
  p: tuple[float, ...] = (0.1, 0.2)
  # The paper's construction lets a neuron read fewer features as n grows (p ~ n^(-1/4) or
  # n^(-1/2)) so the interference each neuron sums stays bounded.
  p_exponent: float = 0.0
  seeds: int = 3
  target: float = 0.25  # max error below which a width counts as enough
  test_inputs: int = 32
  every_input: bool = False
  eps: tuple[float, ...] = ()
  embedding: str = "random"
  d0_scale: float = 0.5
  d0_exponent: float = 1.0
  d0_at_most_n: bool = True
  # Random MLP: matched readouts (superjax.uand.readout.matched, in whitened form) at
  # widths up to fitted_max_m, for n <= fitted_max_n (the fit costs n^2 m^2 / 2 per seed).
  fitted_max_m: int = 2048
  fitted_max_n: int = 256
  fit_inputs: int = 4096
  positives: int = 4  # inputs per pair whose mean activation the readout maps to 1
  ridge: float = 1e-3
  # Trained circuit: only for n <= trained_max_n, at widths trained_m (a subset of m).
  trained_max_n: int = 32
  trained_m: tuple[int, ...] = (256,)
  train_steps: int = 1000
  train_batch: int = 256
  lr: float = 3e-3
  log_every: int = 100
  checkpoint_every: int = 500
  base_seed: int = 0

  def validate(self) -> None:
    check_choices("constructions", self.constructions, CONSTRUCTIONS)
    check_choices("inputs", self.inputs, INPUTS)
    check(self.active in ACTIVE_MODES, "active",
          f"{self.active!r} is not one of {', '.join(ACTIVE_MODES)}")
    for field in ("n", "s", "m", "trained_m"):
      values = getattr(self, field)
      check(len(values) > 0, field, "needs at least one value")
      check(all(is_int(v) for v in values), field, f"{values} must be integers")
      check(list(values) == sorted(set(values)), field, "values must be distinct and increasing")
    for v in self.trained_m:
      check(v in self.m, "trained_m", f"{v} is not one of m {self.m}")
    for v in self.n:
      check(4 <= v <= 4096, "n", f"{v} is outside the allowed range [4, 4096]")
    for v in self.s:
      check(2 <= v <= min(self.n), "s",
            f"{v} is outside the allowed range [2, min(n) = {min(self.n)}]")
    for v in self.m:
      check(1 <= v <= 65536, "m", f"{v} is outside the allowed range [1, 65536]")
    check(len(self.p) > 0 and len(set(self.p)) == len(self.p), "p", "needs distinct values")
    check(isinstance(self.p_exponent, (int, float)) and 0.0 <= self.p_exponent <= 1.0,
          "p_exponent", f"{self.p_exponent} is outside the allowed range [0, 1]")
    for v in self.p:
      check(isinstance(v, (int, float)) and 0.0 < v, "p", f"{v} must be > 0")
      if self.p_exponent == 0:
        check(v <= 1.0, "p", f"{v} is outside the allowed range (0, 1]")
      else:
        # The rule is never clipped: every n must give a probability.
        check(v * min(self.n) ** -self.p_exponent <= 1.0, "p",
              f"{v} * n**-{self.p_exponent:g} = {v * min(self.n) ** -self.p_exponent:.3g} "
              f"exceeds 1 at n = {min(self.n)}")
    for field, low in (("seeds", 1), ("test_inputs", 1), ("fitted_max_m", 1),
                       ("fitted_max_n", 0), ("fit_inputs", 1), ("positives", 1),
                       ("trained_max_n", 0), ("train_steps", 1), ("train_batch", 1),
                       ("log_every", 1), ("checkpoint_every", 1), ("base_seed", 0)):
      check_int(self, field, low)
    for field, low, high in (("target", 0.0, 1.0), ("d0_scale", 0.0, math.inf),
                             ("d0_exponent", 0.0, 1.0)):
      v = getattr(self, field)
      check(isinstance(v, (int, float)) and low < v <= high, field,
            f"{v} is outside the allowed range ({low:g}, {high:g}]")
    check(isinstance(self.d0_at_most_n, bool), "d0_at_most_n",
          f"{self.d0_at_most_n!r} must be true or false")
    check(isinstance(self.every_input, bool), "every_input",
          f"{self.every_input!r} must be true or false")
    check(list(self.eps) == sorted(set(self.eps)), "eps", "values must be distinct and increasing")
    for v in self.eps:
      check(isinstance(v, (int, float)) and 0.0 < v <= 1.0, "eps",
            f"{v} is outside the allowed range (0, 1]")
    check(self.embedding in EMBEDDINGS, "embedding",
          f"{self.embedding!r} is not one of {', '.join(EMBEDDINGS)}")
    if self.embedding == "hadamard" and "superposed" in self.inputs:
      check(self.d0_scale == 0.5 and self.d0_exponent == 1.0, "embedding",
            "hadamard stores n features in d0 = n/2 dimensions: set d0_scale=0.5, d0_exponent=1")
      for v in self.n:
        check(v & (v - 1) == 0, "n", f"{v}: a hadamard embedding needs n a power of 2")
    if self.every_input:
      for v in self.n:
        enumerated = (("superposed" in self.inputs and {"naive", "uand"} & set(self.constructions))
                      or ("random_mlp" in self.constructions and v <= self.fitted_max_n)
                      or ("trained" in self.constructions and v <= self.trained_max_n))
        for k in self.s:
          count = input_count(v, k, self.active)
          check(not enumerated or count <= EVERY_INPUT_MAX, "every_input",
                f"n = {v}, s = {k} has {count:,} inputs, more than {EVERY_INPUT_MAX:,} to "
                "enumerate")
    for field in ("ridge", "lr"):
      check_positive(self, field)

  def p_at(self, n: int) -> tuple[float, ...]:
    """Each U-AND neuron's probability of reading a feature at n: c * n**(-p_exponent) for
    every c in p."""
    return tuple(float(c * n ** -self.p_exponent) for c in self.p)


def tiny() -> UAndConfig:
  """A study that runs in seconds: n = 8 and 16, three widths, a short trained circuit."""
  return UAndConfig(name="tiny_uand", n=(8, 16), m=(32, 64, 128), seeds=2, trained_max_n=8,
                    trained_m=(64,), train_steps=1000, log_every=50, checkpoint_every=50,
                    fit_inputs=256, fitted_max_m=128)

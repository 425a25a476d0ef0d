"""The toy-SAE study's config: a grid of toy models, and the grid of SAEs trained on each
model's hidden activations (tuples are grid axes)."""

from __future__ import annotations

import dataclasses

import numpy as np

from superjax.core.config import (
  Config,
  check,
  check_choices,
  check_int,
  check_positive,
  is_int,
)
from superjax.sae.kinds import KINDS
from superjax.toy.config import SweepConfig

# The toy model whose hidden layer the SAEs read: h = W x, then ReLU(W^T h + b).
TOY_MODEL = "relu"
# The L0 targets an SAE can be trained or picked at: "matched" = the expected number of
# active features, n x density (capped at the latents); "fixed" = fixed_k.
TARGETS = ("matched", "fixed")


@dataclasses.dataclass(frozen=True)
class ToySAEConfig(Config):
  """Settings of an SAE study on toy models, where the true features are known.

  Attributes:
    name, description: as for every sweep.
    n, m: features and hidden dimensions of the toy models (ReLU output).
    density: feature densities (one toy model each, per alpha and seed).
    alpha: clean-loss weights of the toy models' adversarial training (1 = clean), with
      the preprint's attack made inside every step at budget attack_eps x mean ||x||.
    seeds: toy models per (density, alpha); each gets its own SAEs.
    toy_steps, toy_batch, toy_lr: toy-model training (AdamW, cosine, as the toy sweeps).
    attack_eps: budget of the attack, in training and on the SAEs' attacked inputs.
    sae_kinds: registered SAE kinds.
    expansions: latents per hidden dimension; one pass per kind and expansion.
    targets: the L0 targets (TARGETS) the SAEs are trained and picked at: kinds controlled
      by k train once per target, at k = fixed_k ("fixed") or at k matched to the
      expected number of active features, round(n x density), at least 1 ("matched").
      A matched k above 16 is found by counting rather than sorting and costs several
      times the step of k = 4 (superjax.sae.selection).
    fixed_k: the L0 of the "fixed" target.
    l1, l0: penalty coefficients of ReLU (L1) and JumpReLU (L0) SAEs; their L0 is free,
      and the report picks, per toy model, the coefficient whose L0 is nearest a target.
    tokens: inputs sampled per toy model to train its SAEs; eval_tokens held out.
    sae_steps, sae_batch, sae_lr: SAE training (Adam, decaying to 0 at the end).
    log_every, checkpoint_every: steps per logged segment and between saves, every pass.
    base_seed: base seed of everything random.
  """

  EXPERIMENT = "toy_sae"

  name: str
  description: str = ""
  n: int = 100
  m: int = 20
  # Denser than 0.4 the preprint's toy models hold no superposition (about one feature per
  # dimension), so the premise has nothing to track there.
  density: tuple[float, ...] = tuple(np.geomspace(0.4, 0.1, 8).tolist())
  alpha: tuple[float, ...] = (1.0, 0.5)
  seeds: int = 5
  toy_steps: int = 4000
  toy_batch: int = 512
  toy_lr: float = 1e-3
  attack_eps: float = 0.1
  sae_kinds: tuple[str, ...] = ("relu", "jumprelu", "topk", "batchtopk")
  expansions: tuple[int, ...] = (8,)
  targets: tuple[str, ...] = ("fixed",)
  fixed_k: int = 4
  # Coefficients around L0 = fixed_k on these toy models after 4,000 steps: L1 3 gives L0
  # about 5 and L1 6 silences the SAE (L0 below 1); L0-penalty 3 gives about 2, 1 about 5.6.
  l1: tuple[float, ...] = (4.0, 3.0)
  l0: tuple[float, ...] = (2.0, 1.0)
  tokens: int = 16384
  eval_tokens: int = 4096
  sae_steps: int = 4000
  sae_batch: int = 256
  sae_lr: float = 3e-3
  log_every: int = 500
  checkpoint_every: int = 2000
  base_seed: int = 0

  def validate(self) -> None:
    for field in ("n", "m", "seeds", "toy_steps", "toy_batch", "fixed_k", "tokens",
                  "eval_tokens", "sae_steps", "sae_batch", "log_every", "checkpoint_every"):
      check_int(self, field, 1)
    check_int(self, "base_seed", 0)
    check(len(self.density) > 0 and all(0 < v <= 1 for v in self.density), "density",
          f"{self.density}: every density must be in (0, 1]")
    check(len(self.alpha) > 0 and all(0 <= v <= 1 for v in self.alpha), "alpha",
          f"{self.alpha}: every alpha must be in [0, 1]")
    check_choices("sae_kinds", self.sae_kinds, tuple(KINDS))
    check_choices("targets", self.targets, TARGETS)
    for kind in self.sae_kinds:
      check(KINDS[kind].control == "k" or hasattr(self, KINDS[kind].penalty_field), "sae_kinds",
            f"{kind} is set by a penalty that this study has no coefficient field for")
    check(len(self.expansions) > 0 and all(int(e) >= 1 for e in self.expansions),
          "expansions", f"{self.expansions} must be positive integers")
    check(self.fixed_k <= min(self.expansions) * self.m, "fixed_k",
          f"{self.fixed_k} is more than the {min(self.expansions) * self.m} latents of the "
          "smallest expansion")
    for field in ("l1", "l0"):
      values = getattr(self, field)
      check(len(values) > 0 and all(v > 0 for v in values), field,
            f"{values} must be one or more positive coefficients")
    for field in ("toy_lr", "attack_eps", "sae_lr"):
      check_positive(self, field)
    check(self.sae_batch <= self.tokens, "sae_batch", f"{self.sae_batch} is more than the "
          f"{self.tokens} tokens per toy model")

  def toy_sweep(self) -> SweepConfig:
    """The toy-model grid as a toy sweep (trained by the toy family's program)."""
    return SweepConfig(
        name=f"{self.name}_toy", models=(TOY_MODEL,), n=self.n, m=self.m, density=self.density,
        alpha=self.alpha, seeds=self.seeds, steps=self.toy_steps, batch=self.toy_batch,
        lr=(self.toy_lr,), train_eps=(self.attack_eps,), attack_eps=self.attack_eps,
        train_attack="gorton" if min(self.alpha) < 1 else "none",
        log_every=min(self.log_every, self.toy_steps),
        checkpoint_every=self.checkpoint_every, base_seed=self.base_seed)

  def settings_of(self, kind: str) -> tuple[str, ...]:
    """Labels of a kind's sparsity settings, in the order of the `setting` axis."""
    if KINDS[kind].control == "k":
      return tuple("k=matched" if t == "matched" else f"k={self.fixed_k}" for t in self.targets)
    return tuple(f"{KINDS[kind].penalty_field}={v:g}" for v in self.penalties(kind))

  def penalties(self, kind: str) -> tuple[float, ...]:
    """The coefficients of a kind controlled by a penalty."""
    return getattr(self, KINDS[kind].penalty_field)

  def matched_k(self) -> np.ndarray:
    """(densities,) the expected number of active features, round(n x density), >= 1."""
    return np.maximum(np.round(self.n * np.asarray(self.density)), 1).astype(np.int32)


def tiny() -> ToySAEConfig:
  """A study that runs in seconds: 3 densities x 2 alphas x 2 seeds of n=12, m=4."""
  return ToySAEConfig(name="tiny_toy_sae", n=12, m=4, density=(1.0, 0.3, 0.1), seeds=2,
                      toy_steps=300, toy_batch=256, expansions=(2,), targets=TARGETS,
                      fixed_k=2, l1=(1.0, 0.1),
                      l0=(0.3,), tokens=1024, eval_tokens=256, sae_steps=120,
                      sae_batch=128, log_every=20, checkpoint_every=60)


@dataclasses.dataclass(frozen=True)
class EffectiveConfig(Config):
  """Settings of the effective-feature study (Bereska et al. 2025): toy models with
  several feature counts n at one width m, clean and adversarially trained, and ReLU (L1)
  SAEs on their hidden activations, whose activation mass gives the effective feature
  count (superjax.toy_sae.effective). n / m runs from abundant capacity (n <= m: every
  feature can have a dimension of its own) to scarce (n >> m: features must share).

  Attributes:
    name, description: as for every sweep.
    features: the feature counts n, one toy study each.
    m: hidden width of every toy model.
    expansion: SAE latents per hidden dimension.
    l1: L1 coefficients of the SAEs, one SAE per toy model each.
    The other fields are ToySAEConfig's.
  """

  EXPERIMENT = "toy_sae_effective"

  name: str
  description: str = ""
  features: tuple[int, ...] = (10, 20, 40, 100)
  m: int = 20
  density: tuple[float, ...] = (0.1,)
  alpha: tuple[float, ...] = (1.0, 0.5)
  seeds: int = 5
  toy_steps: int = 8000
  toy_batch: int = 512
  toy_lr: float = 1e-3
  attack_eps: float = 0.1
  expansion: int = 8
  # One coefficient for every model, as the paper's: 3 is the largest that leaves the
  # n = 100 models' SAEs alive (L0 about 5 at density 0.1; 6 silences them); at 1 the
  # activation mass spreads over nearly every latent whatever n is.
  l1: tuple[float, ...] = (3.0,)
  tokens: int = 16384
  eval_tokens: int = 4096
  sae_steps: int = 8000
  sae_batch: int = 256
  sae_lr: float = 3e-3
  log_every: int = 500
  checkpoint_every: int = 2000
  base_seed: int = 0

  def validate(self) -> None:
    check(len(self.features) > 0 and all(is_int(n) and n >= 1 for n in self.features)
          and len(set(self.features)) == len(self.features), "features",
          f"{self.features} must be distinct positive integers")
    check(1.0 in self.alpha and min(self.alpha) < 1.0, "alpha",
          f"{self.alpha} must hold 1 (clean) and an alpha below 1 (adversarially trained)")
    # Everything else is checked by the toy study of each feature count.
    for n in self.features:
      self.study(n)

  def study(self, n: int) -> ToySAEConfig:
    """The toy-SAE study of n features: ReLU SAEs at each L1 coefficient."""
    return ToySAEConfig(
        name=f"{self.name}_n{n}", n=n, m=self.m, density=self.density, alpha=self.alpha,
        seeds=self.seeds, toy_steps=self.toy_steps, toy_batch=self.toy_batch,
        toy_lr=self.toy_lr, attack_eps=self.attack_eps, sae_kinds=("relu",),
        expansions=(self.expansion,), targets=("fixed",), fixed_k=1, l1=self.l1,
        tokens=self.tokens, eval_tokens=self.eval_tokens, sae_steps=self.sae_steps,
        sae_batch=self.sae_batch, sae_lr=self.sae_lr, log_every=self.log_every,
        checkpoint_every=self.checkpoint_every, base_seed=self.base_seed)


def tiny_effective() -> EffectiveConfig:
  """An effective-feature study that runs in seconds: n = 3 and 12 at m = 4."""
  return EffectiveConfig(name="tiny_toy_sae_effective", features=(3, 12), m=4,
                         density=(0.3,), seeds=2, toy_steps=200, toy_batch=128,
                         expansion=2, l1=(1.0,), tokens=1024, eval_tokens=256,
                         sae_steps=100, sae_batch=128, log_every=20, checkpoint_every=50)

"""One SAE: its static settings, its per-run hyperparameters, and the trained dictionary
with the standardisation of its inputs.

Every kind works on standardised activations x = (a - mean) / scale, where mean and scale
are fitted on each source's (model's or layer's) training activations and stored with the
SAE, so activations of different models are on one footing (Gorton & Lewis 2025, App. A).
Latent i has an encoder row W_enc[i] and a decoder row (dictionary vector) W_dec[i].
"""

from __future__ import annotations

import dataclasses
import functools

import flax.struct
import jax
import jax.numpy as jnp
import numpy as np

from superjax.core.axes import Axes, product
from superjax.core.config import ConfigError
from superjax.sae.dictionary import decode, last_axis
from superjax.sae.kinds import KINDS

Params = dict[str, jax.Array]


@dataclasses.dataclass(frozen=True)
class Settings:
  """Static settings shared by every SAE of one program (shapes, schedule, recipe).

  Attributes:
    kind: a registered kind (superjax.sae.kinds.KINDS): "relu", "topk", "jumprelu",
      "batchtopk", "matryoshka".
    d_in: activation width d.
    expansion: latents per input dimension; n_latents = expansion * d_in (a fraction for
      dictionaries whose size is no multiple of d_in, as SAEs trained elsewhere may be).
    k_max: the largest k of any run (kinds controlled by k); TopK's static top-k size.
    k_aux: dead latents used by AuxK, capped at n_latents.
    aux_coef: weight of the AuxK loss.
    dead_tokens: a latent is dead after this many training inputs without firing.
    batch: training inputs per step.
    steps: optimiser steps.
    penalty_warmup: fraction of steps over which the penalty coefficient ramps up from 0
      (kinds controlled by a penalty: ReLU's L1, JumpReLU's L0).
    lr_decay: final fraction of steps over which the learning rate decays to 0.
    grad_clip: global gradient-norm clip.
    init_norm: decoder row norm at initialisation (ReLU; the other kinds keep unit rows).
    bandwidth: width eps of JumpReLU's rectangle kernel. The paper's 1e-3 suits its
      inputs; ours are standardised to unit variance per dimension, so pre-activations
      are O(1) and a kernel that narrow sees almost no inputs per batch.
    threshold_init: JumpReLU's initial threshold. The paper starts at 1e-3 and trains
      for 100,000s of steps; Adam moves log theta by about lr per step, so a short run
      would never lift thresholds from there to the O(1) scale of the pre-activations.
    threshold_ema: rate of BatchTopK's moving average of the training threshold.
    per_dimension: standardise each dimension by its own standard deviation; False
      divides by one scale per source, the root mean variance over dimensions.
  """

  kind: str = "topk"
  d_in: int = 64
  expansion: int = 8
  k_max: int = 64
  k_aux: int = 512
  aux_coef: float = 1.0
  dead_tokens: int = 10_000_000
  batch: int = 4096
  steps: int = 10_000
  penalty_warmup: float = 0.05
  lr_decay: float = 0.2
  grad_clip: float = 1.0
  init_norm: float = 0.1
  bandwidth: float = 0.05
  threshold_init: float = 0.1
  threshold_ema: float = 0.01
  per_dimension: bool = True

  def __post_init__(self):
    if self.kind not in KINDS:
      raise ConfigError(f"kind must be one of {tuple(KINDS)}, got {self.kind!r}")
    for name in ("d_in", "k_max", "k_aux", "dead_tokens", "batch", "steps"):
      if int(getattr(self, name)) < 1:
        raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
    if not (self.expansion > 0 and abs(self.d_in * self.expansion - self.n_latents) < 1e-6):
      raise ConfigError(f"expansion must make expansion * d_in a positive whole number of "
                        f"latents, got {self.expansion!r} for d_in {self.d_in}")
    if KINDS[self.kind].control == "k" and self.k_max > self.n_latents:
      raise ConfigError(f"k_max must be <= n_latents = {self.n_latents}, got {self.k_max}")
    for name in ("penalty_warmup", "lr_decay", "threshold_ema"):
      if not 0.0 <= getattr(self, name) <= 1.0:
        raise ConfigError(f"{name} must be in [0, 1], got {getattr(self, name)!r}")
    for name in ("grad_clip", "init_norm", "bandwidth", "threshold_init"):
      if not getattr(self, name) > 0:
        raise ConfigError(f"{name} must be > 0, got {getattr(self, name)!r}")
    if not self.aux_coef >= 0:
      raise ConfigError(f"aux_coef must be >= 0, got {self.aux_coef!r}")

  @property
  def n_latents(self) -> int:
    return round(self.d_in * self.expansion)

  @property
  def k_aux_used(self) -> int:
    return min(self.k_aux, self.n_latents)


@flax.struct.dataclass
class SAEHParams:
  """Per-run hyperparameters, traced (scalars for one run, shape (runs,) for many)."""

  k: jax.Array  # int32 active latents per input (kinds controlled by k)
  penalty: jax.Array  # float32 sparsity coefficient lambda (kinds controlled by a penalty)
  lr: jax.Array  # float32 peak learning rate
  source: jax.Array  # int32 index of the run's activation matrix (model or layer)
  seed: jax.Array  # int32


def hparams(settings: Settings, k=None, penalty=(5.0,), lr=(5e-4,), source=(0,),
            seed=(0,)) -> tuple[SAEHParams, Axes]:
  """The Cartesian product of the given values as a flat run axis (k defaults to k_max).

  The default penalty is the April 2024 update's L1 lambda = 5, set for inputs scaled so
  that E||x||^2 is about d, as per-dimension standardisation makes it.

  Returns:
    The hyperparameters, each of shape (runs,), and their grid
    (core.axes: product(source=, k=, penalty=, lr=, seed=)), which orders the runs and
    labels their results (core.results).
  """
  k = (settings.k_max,) if k is None else k
  for value in k:
    if not 1 <= int(value) <= settings.k_max:
      raise ConfigError(f"k must be in [1, k_max = {settings.k_max}], got {value!r}")
  for name, values in (("penalty", penalty), ("lr", lr)):
    if any(not float(v) >= 0 for v in values):
      raise ConfigError(f"{name} must be >= 0, got {values!r}")
  grid = product(source=source, k=k, penalty=penalty, lr=lr, seed=seed)
  values = grid.hparams()
  hp = SAEHParams(source=values["source"].astype(np.int32), k=values["k"].astype(np.int32),
                  penalty=values["penalty"].astype(np.float32),
                  lr=values["lr"].astype(np.float32), seed=values["seed"].astype(np.int32))
  return hp, grid


@flax.struct.dataclass
class SAE:
  """One trained SAE with its standardisation (a leading run axis when stacked)."""

  params: Params  # W_enc (L, d), b_enc (L,), W_dec (L, d), b_dec (d,): trained
  mean: jax.Array  # (d,) subtracted from raw activations
  scale: jax.Array  # (d,) divides them after
  k: jax.Array  # () int32 active latents (kinds controlled by k)
  # The kind's untrained arrays (Kind.init_buffers), e.g. BatchTopK's threshold; the
  # optimiser only ever sees `params`.
  buffers: Params = flax.struct.field(default_factory=dict)
  settings: Settings = flax.struct.field(pytree_node=False, default=Settings())


def fit_standardizer(acts: jax.Array, per_dimension: bool = True) -> tuple[jax.Array, jax.Array]:
  """Mean and scale of one source's training activations.

  Args:
    acts: (tokens, d) raw activations.
    per_dimension: scale is each dimension's standard deviation; otherwise the root of the
      mean variance over dimensions, repeated d times.

  Returns:
    mean (d,) and scale (d,); a constant dimension gets scale 1.
  """
  mean = jnp.mean(acts, axis=0)
  var = jnp.mean((acts - mean[None, :]) ** 2, axis=0)
  if not per_dimension:
    var = jnp.full_like(var, jnp.mean(var))
  return mean, jnp.where(var > 0, jnp.sqrt(var), 1.0)


@functools.partial(jax.jit, static_argnames=("per_dimension",))
def standardizers(acts: jax.Array, per_dimension: bool = True) -> tuple[jax.Array, jax.Array]:
  """(sources, tokens, d) activations -> per-source mean and scale, each (sources, d)."""
  return jax.vmap(functools.partial(fit_standardizer, per_dimension=per_dimension))(acts)


def standardize(sae: SAE, acts: jax.Array) -> jax.Array:
  """(..., d) raw activations -> (..., d) the SAE's standardised inputs."""
  return (acts - last_axis(sae.mean, acts)) / last_axis(sae.scale, acts)


def encode(sae: SAE, acts: jax.Array) -> jax.Array:
  """Latents of raw activations (standardised with the SAE's own mean and scale).

  Args:
    sae: one SAE (no run axis).
    acts: (..., d) raw activations, e.g. (N, d) or (N, H, W, d) feature maps.

  Returns:
    (..., L) latent activations; L0 of input i is `jnp.sum(z[i] > 0)`.
  """
  return KINDS[sae.settings.kind].encode(sae.params, sae.buffers, standardize(sae, acts), sae.k,
                                         sae.settings)


def reconstruct(sae: SAE, z: jax.Array) -> jax.Array:
  """(..., L) latents -> (..., d) reconstruction in the standardised space."""
  return decode(sae.params, z)

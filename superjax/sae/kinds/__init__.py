"""SAE kinds behind one small interface: a kind is one module in this folder defining
`KIND = Kind(...)`; every module here is registered by its KIND's name.

A kind says how its latents are computed (`encode`), what it is trained on (`loss`), how
its sparsity is set (`control`: a run's traced k, or a penalty coefficient), and what
constrains it (`project_grads` before the optimiser step, `after_step` after it).
Arrays a kind tracks without training them (BatchTopK's threshold) are its `buffers`,
kept apart from the params so the optimiser never sees them (no moments, no decay).
Everything else (standardisation, batches, optimiser, dead-latent counts, evaluation)
is shared by all kinds (superjax.sae.train, superjax.sae.metrics).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp

Params = dict[str, jax.Array]

# How a kind's sparsity is set: by the run's k (active latents per input, or per input on
# average over a batch), or by the coefficient of a sparsity penalty in its loss.
CONTROLS = ("k", "penalty")


def _unchanged_grads(params: Params, grads: Params) -> Params:
  return grads


def _unchanged(params: Params, out: dict, step: jax.Array, settings) -> Params:
  return params


def _no_buffers(settings) -> Params:
  return {}


def _unchanged_buffers(buffers: Params, out: dict, step: jax.Array, settings) -> Params:
  return buffers


def ramped_penalty(hp, settings, step: jax.Array) -> jax.Array:
  """The run's penalty coefficient, ramped up linearly from 0 over the first
  `penalty_warmup` of training (penalty kinds): an early full penalty kills latents
  before they have found anything to reconstruct."""
  warmup_steps = max(round(settings.penalty_warmup * settings.steps), 1)
  return hp.penalty * jnp.minimum(1.0, (step + 1) / warmup_steps)


class Kind(NamedTuple):
  """One kind of SAE.

  Attributes:
    name: registry key (the `sae_kinds` value in configs).
    control: "k" (hp.k sets the sparsity) or "penalty" (hp.penalty weighs a penalty).
    penalty_field: for kinds controlled by a penalty, the penalty's name ("l1", "l0"),
      which is also the config field of a study's coefficients (a run's coefficient is
      hp.penalty).
    fixed_l0: whether L0 at evaluation is k by construction (TopK): such a kind cannot
      show an attack raising L0.
    init: (directions (L, d) unit rows, sample (B, d) standardised inputs, settings) ->
      params {"W_enc" (L, d), "b_enc" (L,), "W_dec" (L, d), "b_dec" (d,), ...}.
    encode: (params, buffers, x (..., d), k, settings) -> latents (..., L), non-negative,
      as used at evaluation; `k` is the run's traced k (kinds without one ignore it).
    loss: (params, x (B, d), hp, settings, dead (L,) bool, step) -> (loss, {"z": (B, L),
      "x_hat": (B, d), ...}); hp is the run's SAEHParams, dead the latents counted dead.
    project_grads: (params, grads) -> grads, applied before the optimiser step.
    after_step: (params, out, step, settings) -> params, applied after it; `out` is the
      loss's second output for the step's batch.
    init_buffers: settings -> buffers, the kind's untrained arrays ({} for most kinds).
    update_buffers: (buffers, out, step, settings) -> buffers, applied after each step
      (e.g. to track a threshold from `out`); the loss never reads buffers, so they get
      no gradient and the optimiser holds no state for them.
    saelens: (params, buffers, k) -> the kind as an SAE that SAELens loads, on the same
      (standardised) inputs: {"architecture": "standard" | "topk" | "jumprelu", "b_enc"
      (L,) for pre-activations W_enc (x - b_dec) + b_enc, and "threshold" (L,) (jumprelu),
      "k" (topk), "training_architecture" where it differs}; W_enc, W_dec and b_dec are
      the kind's own (superjax.sae.saelens folds the standardisation in).
  """

  name: str
  control: str
  init: Callable[..., Params]
  encode: Callable[..., jax.Array]
  loss: Callable[..., tuple[jax.Array, dict]]
  fixed_l0: bool = False
  penalty_field: str = ""
  project_grads: Callable[[Params, Params], Params] = _unchanged_grads
  after_step: Callable[..., Params] = _unchanged
  init_buffers: Callable[..., Params] = _no_buffers
  update_buffers: Callable[..., Params] = _unchanged_buffers
  saelens: Callable[..., dict] | None = None


def _discover() -> dict[str, Kind]:
  found = {}
  for module in pkgutil.iter_modules(__path__):
    kind = importlib.import_module(f"{__name__}.{module.name}").KIND
    assert kind.control in CONTROLS and (kind.control == "k") != bool(kind.penalty_field), kind
    found[kind.name] = kind
  return dict(sorted(found.items()))


KINDS: dict[str, Kind] = _discover()

"""SAE kinds behind one small interface: a kind is one module in this folder defining
`KIND = Kind(...)`; every module here is registered by its KIND's name.

A kind says how its latents are computed (`encode`), what it is trained on (`loss`), and
what constrains it (`project_grads` before the optimiser step, `project_params` after).
Everything else (standardisation, batches, optimiser, dead-latent counts, evaluation)
is shared by all kinds (superjax.sae.train, superjax.sae.metrics).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import NamedTuple

import jax

Params = dict[str, jax.Array]


def _unchanged_grads(params: Params, grads: Params) -> Params:
  return grads


def _unchanged(params: Params) -> Params:
  return params


class Kind(NamedTuple):
  """One kind of SAE.

  Attributes:
    name: registry key (the `sae_kinds` value in configs).
    init: (directions (L, d) unit rows, sample (B, d) standardised inputs, settings) ->
      params {"W_enc" (L, d), "b_enc" (L,), "W_dec" (L, d), "b_dec" (d,), ...}.
    encode: (params, x (..., d), k, settings) -> latents (..., L), non-negative; `k` is the
      run's traced k (kinds without one ignore it).
    loss: (params, x (B, d), hp, settings, dead (L,) bool, step) -> (loss, {"z": (B, L),
      "x_hat": (B, d)}); hp is the run's SAEHParams, dead the latents counted dead.
    project_grads: (params, grads) -> grads, applied before the optimiser step.
    project_params: params -> params, applied after it.
  """

  name: str
  init: Callable[..., Params]
  encode: Callable[..., jax.Array]
  loss: Callable[..., tuple[jax.Array, dict]]
  project_grads: Callable[[Params, Params], Params] = _unchanged_grads
  project_params: Callable[[Params], Params] = _unchanged


def _discover() -> dict[str, Kind]:
  found = {}
  for module in pkgutil.iter_modules(__path__):
    kind = importlib.import_module(f"{__name__}.{module.name}").KIND
    found[kind.name] = kind
  return dict(sorted(found.items()))


KINDS: dict[str, Kind] = _discover()

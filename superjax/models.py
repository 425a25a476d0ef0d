"""Toy models of superposition as pure functions of plain parameter pytrees.

Each model is written for ONE input vector; batches and grids are added with vmap.
Parameters: W of shape (m, n) (hidden x feature), b of shape (n,).
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

Params = dict[str, jax.Array]


class Model(NamedTuple):
  init: Callable[[jax.Array, int, int], Params]
  apply: Callable[[Params, jax.Array], jax.Array]


def init_tied(key: jax.Array, n: int, m: int) -> Params:
  """Xavier-normal W of one model, drawn as a 2-D (m, n) matrix so its scale does not
  depend on how many models train together; zero bias."""
  std = jnp.sqrt(2.0 / (n + m))
  return {"W": std * jax.random.normal(key, (m, n)), "b": jnp.zeros((n,))}


def linear(params: Params, x: jax.Array) -> jax.Array:
  """x' = W^T W x + b for x of shape (n,)."""
  W = params["W"]
  return W.T @ (W @ x) + params["b"]


def relu_output(params: Params, x: jax.Array) -> jax.Array:
  """x' = ReLU(W^T W x + b) for x of shape (n,)."""
  return jax.nn.relu(linear(params, x))


MODELS: dict[str, Model] = {
    "linear": Model(init_tied, linear),
    "relu": Model(init_tied, relu_output),
}

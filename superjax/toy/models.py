"""Toy models of superposition as pure functions of plain parameter pytrees.

Each model is written for ONE input vector; batches and grids are added with vmap.
Every model has W of shape (m, n) (hidden x feature; column W_i embeds feature i), which
the geometry metrics read, and an output bias b of shape (n,). The abs model adds an
untied output matrix W_out of shape (n, m).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp

Params = dict[str, jax.Array]


class Model(NamedTuple):
  init: Callable[[jax.Array, int, int], Params]
  apply: Callable[[Params, jax.Array], jax.Array]
  # What the output should equal: the input ("input") or its absolute value ("abs").
  target: str = "input"
  # Whether the hidden units are privileged (followed by a ReLU), so that neurons, not
  # only directions, mean something.
  privileged: bool = False


def _xavier(key: jax.Array, shape: tuple[int, int]) -> jax.Array:
  """Xavier-normal matrix drawn as a 2-D array, so its scale does not depend on how many
  models train together (the pitfall of initialising an (instances, m, n) tensor)."""
  return jnp.sqrt(2.0 / sum(shape)) * jax.random.normal(key, shape)


def init_tied(key: jax.Array, n: int, m: int) -> Params:
  return {"W": _xavier(key, (m, n)), "b": jnp.zeros((n,))}


# The abs model's output ReLU starts open. With b = 0 every output sits at its threshold,
# and at low density the model settles for one side of each feature (ReLU(x) or
# ReLU(-x), half the target) or drops it: the side a neuron does not fire for never
# sends a gradient. Measured on elhage_abs (batch 1024), b = 0.1 lowers loss / baseline at
# densities 0.01 to 0.001 from 0.62-0.72 to 0.44-0.61.
ABS_OUTPUT_BIAS_INIT = 0.1


def init_untied(key: jax.Array, n: int, m: int) -> Params:
  key_in, key_out = jax.random.split(key)
  return {"W": _xavier(key_in, (m, n)), "W_out": _xavier(key_out, (n, m)),
          "b": jnp.full((n,), ABS_OUTPUT_BIAS_INIT)}


def linear(params: Params, x: jax.Array) -> jax.Array:
  """x' = W^T W x + b for x of shape (n,)."""
  W = params["W"]
  return W.T @ (W @ x) + params["b"]


def relu_output(params: Params, x: jax.Array) -> jax.Array:
  """x' = ReLU(W^T W x + b)."""
  return jax.nn.relu(linear(params, x))


def hidden_relu(params: Params, x: jax.Array) -> jax.Array:
  """Privileged basis: h = ReLU(W x), x' = ReLU(W^T h + b)."""
  W = params["W"]
  return jax.nn.relu(W.T @ jax.nn.relu(W @ x) + params["b"])


def abs_mlp(params: Params, x: jax.Array) -> jax.Array:
  """Computation in superposition: h = ReLU(W x), y = ReLU(W_out h + b), trained on |x|."""
  return jax.nn.relu(params["W_out"] @ jax.nn.relu(params["W"] @ x) + params["b"])


def target(model: str, x: jax.Array) -> jax.Array:
  return jnp.abs(x) if MODELS[model].target == "abs" else x


MODELS: dict[str, Model] = {
    "linear": Model(init_tied, linear),
    "relu": Model(init_tied, relu_output),
    "hidden_relu": Model(init_tied, hidden_relu, privileged=True),
    "abs": Model(init_untied, abs_mlp, target="abs", privileged=True),
}

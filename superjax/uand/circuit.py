"""The trained U-AND circuit: ONE one-layer MLP trained to output every pairwise AND, as a
Program the core loop vmaps over seeds.

The network is a(x) = ReLU(W1 x + b1) of width m and linear outputs R a(x), one per pair:
R has no bias, so its rows are readouts in the epsilon-linear sense. Every step draws fresh
inputs with s active features (superposed inputs through the seed's embedding E) and takes
an Adam step (cosine decay) on the squared error, the true ANDs weighted so both classes
of every AND weigh the same.
"""

from __future__ import annotations

import dataclasses

import flax.struct
import jax
import jax.numpy as jnp
import optax

from superjax.core import keys, loop
from superjax.uand.constructions import layer
from superjax.uand.inputs import embedding, pair_count, pair_targets, sample_inputs

# Sub-keys of a seed's key (shared with superjax.uand.measure).
TEST, EMBED, UAND, RANDOM, FIT, POSITIVE, TRAIN = (
    "test", "embed", "uand", "random", "fit", "positive", "train")


@dataclasses.dataclass(frozen=True)
class Circuit:
  """Static settings of one trained-circuit program."""

  n: int  # features
  s: int  # active features per input
  m: int  # hidden width
  d0: int | None  # input dimensions of superposed inputs; None for basis inputs
  active: str
  steps: int
  batch: int
  lr: float
  embedding: str = "random"  # superjax.uand.inputs.EMBEDDINGS


@flax.struct.dataclass
class CircuitState:
  params: tuple[jax.Array, jax.Array, jax.Array]  # W1 (m, n_in), b1 (m,), R (P, m)
  opt_state: optax.OptState
  E: jax.Array | None  # (d0, n) the seed's embedding, None for basis inputs


def init_mlp(key: jax.Array, n_in: int, m: int, n: int) -> tuple[jax.Array, ...]:
  """(W1 (m, n_in), b1 (m,), R (P, m)): Xavier-normal W1 and R, b1 = 0."""
  k1, k2 = jax.random.split(key)
  init = jax.nn.initializers.glorot_normal()
  return init(k1, (m, n_in)), jnp.zeros((m,)), init(k2, (pair_count(n), m))


def balanced_loss(params: tuple[jax.Array, ...], x: jax.Array, f: jax.Array,
                  pos_weight: float) -> jax.Array:
  """Squared error of every pairwise AND, true ANDs weighted by pos_weight.

  Args:
    x: (N, n_in) layer inputs. f: (N, n) the boolean features behind them.
  """
  W1, b1, R = params
  pred = layer(W1, b1, x) @ R.T
  target = pair_targets(f)
  weight = 1.0 + (pos_weight - 1.0) * target
  return jnp.mean(jnp.sum(weight * (pred - target) ** 2, axis=1)) / target.shape[1]


def _optimizer(c: Circuit) -> optax.GradientTransformation:
  return optax.adam(optax.cosine_decay_schedule(c.lr, c.steps))


def seed_embedding(c: Circuit, key: jax.Array) -> jax.Array | None:
  """The seed's superposed-feature directions (None for basis inputs)."""
  return (None if c.d0 is None
          else embedding(keys.named(key, EMBED), c.n, c.d0, c.embedding))


def init_state(c: Circuit, key: jax.Array) -> CircuitState:
  """A fresh circuit for the seed whose key is `key`."""
  E = seed_embedding(c, key)
  params = init_mlp(keys.named(key, TRAIN), c.n if E is None else E.shape[0], c.m, c.n)
  return CircuitState(params=params, opt_state=_optimizer(c).init(params), E=E)


def train_step(c: Circuit, state: CircuitState, key: jax.Array
               ) -> tuple[CircuitState, dict[str, jax.Array]]:
  """One Adam step on fresh inputs, drawn from the step's key."""
  f = sample_inputs(key, c.n, c.s, c.batch, c.active)
  x = f if state.E is None else f @ state.E.T
  # Both classes of every AND weigh the same: C(s,2) of the P outputs are true ANDs (at
  # most; fewer with active="at_most"), P - C(s,2) false.
  positives = max(c.s * (c.s - 1) / 2, 1.0)
  pos_weight = (pair_count(c.n) - positives) / positives
  loss, grads = jax.value_and_grad(balanced_loss)(state.params, x, f, pos_weight)
  updates, opt_state = _optimizer(c).update(grads, state.opt_state, state.params)
  return state.replace(params=optax.apply_updates(state.params, updates),
                       opt_state=opt_state), {"loss": loss}


def program(c: Circuit, name: str) -> loop.Program:
  """The core loop's view: each run is one seed's circuit (measured after the pass, from
  its saved state: superjax.uand.measure.trained)."""
  return loop.Program(name=name,
                      init=lambda key, hp, data: init_state(c, key),
                      step=lambda state, hp, key, t, data: train_step(c, state, key))

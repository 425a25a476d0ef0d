"""ONE deep network computing the circuit, run layer by layer as a Program the core loop
vmaps over runs (seeds x p).

A run is one seed's circuit (superjax.deep_circuits.circuit) at one subset probability p
and one width m, evaluated on the seed's test inputs by two networks that share every
U-AND layer and readout (superjax.deep_circuits.layers):

  uncorrected  U-AND layer after U-AND layer, each reading the previous one's readouts;
  corrected    the same U-AND layers with an error-correction layer after each.

Step t computes circuit layer t + 1 in both and records, against the exact boolean values,
the max and mean |readout - true value| over test inputs and features: the epsilon of the
uncorrected network, of the corrected network's U-AND readouts (before that layer's
correction) and of the correction layer's output ("cleaned"). The loop keeps each step's
metrics (segments of one step), so a run's history is its epsilon per layer, and a killed
run resumes at the layer it had reached.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
from flax import struct

from superjax.core import keys, loop
from superjax.deep_circuits import circuit, layers
from superjax.uand.inputs import every_input, sample_inputs
from superjax.uand.readout import errors

# Sub-keys of a seed's key: its test inputs, its circuit's wiring and its U-AND layers.
TEST, CIRCUIT, LAYER = "test", "circuit", "layer"
# The readouts whose epsilon each step records, in this order.
READOUTS = ("uncorrected", "corrected", "cleaned")


@dataclasses.dataclass(frozen=True)
class Network:
  """Static settings of one pass: every run has these shapes."""

  n: int  # features per circuit layer
  s: int  # active features per input (every layer keeps the count)
  m: int  # neurons per U-AND layer
  active: str
  test_inputs: int
  every_input: bool = False


@struct.dataclass
class NetworkState:
  """Both networks' feature values on the test inputs after the layers computed so far.

  Attributes:
    truth: (N, n) the circuit's exact values. uncorrected, corrected: (N, n) readouts
      (corrected: after the correction layer).
  """

  truth: jax.Array
  uncorrected: jax.Array
  corrected: jax.Array


def init_state(c: Network, key: jax.Array) -> NetworkState:
  """The seed's test inputs (every input with every_input), read exactly by both networks."""
  f = (jnp.asarray(every_input(c.n, c.s, c.active)) if c.every_input
       else sample_inputs(keys.named(key, TEST), c.n, c.s, c.test_inputs, c.active))
  return NetworkState(truth=f, uncorrected=f, corrected=f)


def layer_weights(c: Network, key: jax.Array, p: jax.Array, t: jax.Array):
  """Circuit layer t + 1's wiring, its U-AND subsets (m, n) and readouts (n, m); `key` is
  step t's key (the same for every width m and p of a seed)."""
  w = circuit.layer_wiring(keys.named(key, CIRCUIT), c.n, t)
  W = layers.uand_layer_weights(keys.named(key, LAYER), c.n, c.m, p)
  return w, W, layers.readouts(W, w, c.s, p)


def step(c: Network, state: NetworkState, hp: dict, key: jax.Array, t: jax.Array
         ) -> tuple[NetworkState, dict[str, jax.Array]]:
  """Circuit layer t + 1 in both networks (step key `key`), and each readout's max and
  mean epsilon."""
  w, W, R = layer_weights(c, key, hp["p"], t)
  truth = circuit.evaluate(w, state.truth)
  uncorrected = layers.uand_step(W, R, state.uncorrected)
  before = layers.uand_step(W, R, state.corrected)
  corrected = layers.correct(before)
  metrics = {}
  for name, values in zip(READOUTS, (uncorrected, before, corrected)):
    metrics[f"{name}_max"], metrics[f"{name}_mean"] = errors(values, truth)
  return state.replace(truth=truth, uncorrected=uncorrected, corrected=corrected), metrics


def program(c: Network, name: str) -> loop.Program:
  return loop.Program(name=name,
                      init=lambda key, hp, data: init_state(c, key),
                      step=lambda state, hp, key, t, data: step(c, state, hp, key, t))

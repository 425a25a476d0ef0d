"""Measurements of ONE layer of each construction for one seed: the max and mean epsilon of
its pair readouts (superjax.uand.readout) on the seed's test inputs, at every hidden width.

A seed's key fixes its test inputs, its embedding (superposed inputs) and its layer; the
study vmaps these functions over seeds (and p for U-AND). Shapes are static per
(n, s, inputs), so each compiles once per cell.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from superjax.core import keys
from superjax.uand import circuit, readout
from superjax.uand.circuit import EMBED, FIT, POSITIVE, RANDOM, TEST, UAND
from superjax.uand.config import UAndConfig
from superjax.uand.constructions import (
  active_counts,
  features_per_neuron,
  layer,
  naive_weights,
  naive_worst_errors,
  random_mlp_weights,
  uand_prefix_errors,
  uand_weights,
  uand_worst_errors,
)
from superjax.uand.inputs import (
  INPUTS,
  embedding,
  every_input,
  input_errors,
  pair_count,
  pair_index,
  pair_targets,
  sample_inputs,
  sample_positives,
  superposed_dims,
)


def d0_of(cfg: UAndConfig, n: int, inputs: str) -> int | None:
  """Input dimensions of the setting: None for basis inputs (the features themselves)."""
  return (None if inputs == "basis"
          else superposed_dims(n, cfg.d0_scale, cfg.d0_exponent, cfg.d0_at_most_n))


def features_in(cfg: UAndConfig, key: jax.Array, n: int, inputs: str):
  """The seed's embedding (None for basis inputs) and the map from features to layer inputs."""
  if inputs == "basis":
    return None, lambda f: f
  E = embedding(keys.named(key, EMBED), n, d0_of(cfg, n, inputs), cfg.embedding)
  return E, lambda f: f @ E.T


def seed_keys(cfg: UAndConfig, n: int, s: int, inputs: str) -> jax.Array:
  """(seeds,) keys of one (n, s, inputs) cell."""
  root = jax.random.fold_in(jax.random.fold_in(keys.root(cfg.base_seed, "cells"), n), s)
  root = jax.random.fold_in(root, INPUTS.index(inputs))
  return jax.vmap(functools.partial(jax.random.fold_in, root))(jnp.arange(cfg.seeds))


def test_inputs(cfg: UAndConfig, key: jax.Array, n: int, s: int) -> jax.Array:
  """The seed's test inputs: every input with every_input, else test_inputs random ones."""
  if cfg.every_input:
    return jnp.asarray(every_input(n, s, cfg.active))
  return sample_inputs(keys.named(key, TEST), n, s, cfg.test_inputs, cfg.active)


def exact_without_inputs(cfg: UAndConfig, inputs: str) -> bool:
  """Whether U-AND and naive take their worst case over every input without enumerating
  inputs (basis inputs with every_input)."""
  return cfg.every_input and inputs == "basis"


def naive_every_input(cfg: UAndConfig, n: int, s: int) -> np.ndarray:
  """naive's (len(m) + 1, 2) errors over every basis input (constructions.naive_worst_errors)."""
  return naive_worst_errors(n, s, cfg.m, cfg.active)


@functools.partial(jax.jit, static_argnums=(0, 1, 2, 3))
def input_error(cfg: UAndConfig, n: int, s: int, inputs: str, key: jax.Array) -> jax.Array:
  """Max error of the identity readouts r_i = e_i of the seed's superposed features on its
  test inputs (0 for basis inputs)."""
  E, _ = features_in(cfg, key, n, inputs)
  return jnp.float32(0.0) if E is None else input_errors(E, test_inputs(cfg, key, n, s))


@functools.partial(jax.jit, static_argnums=(0, 1, 2, 3))
def naive(cfg: UAndConfig, n: int, s: int, inputs: str, key: jax.Array) -> jax.Array:
  """(len(m) + 1, 2) max and mean error of the naive layer cut to each grid width (pairs
  past the width have no neuron and read 0), and at its own width n(n-1)/2."""
  E, embed = features_in(cfg, key, n, inputs)
  f = test_inputs(cfg, key, n, s)
  W, b = naive_weights(n)
  acts = layer(W if E is None else W @ E.T, b, embed(f))
  targets = pair_targets(f)
  out = []
  for width in cfg.m + (pair_count(n),):
    kept = (jnp.arange(pair_count(n)) < width).astype(jnp.float32)
    out.append(jnp.stack(readout.errors(acts * kept[None, :], targets)))
  return jnp.stack(out)


def _uand_layer(cfg: UAndConfig, n: int, s: int, inputs: str, key: jax.Array, p: jax.Array):
  """The seed's U-AND subsets W (m, n), its test features f and the layer's activations."""
  W, b = uand_weights(keys.named(key, UAND), n, max(cfg.m), p)
  E, embed = features_in(cfg, key, n, inputs)
  f = test_inputs(cfg, key, n, s)
  return W, f, layer(W if E is None else W @ E.T, b, embed(f))


@functools.partial(jax.jit, static_argnums=(0, 1, 2, 3))
def uand_active(cfg: UAndConfig, n: int, s: int, inputs: str, key: jax.Array,
                p: jax.Array) -> jax.Array:
  """(len(m),) the most U-AND neurons active on one test input in each block of widths:
  `uand`'s gather sizes (constructions.active_counts)."""
  _, _, acts = _uand_layer(cfg, n, s, inputs, key, p)
  return active_counts(acts, cfg.m)


@functools.partial(jax.jit, static_argnums=(0, 1, 2, 3, 6))
def uand(cfg: UAndConfig, n: int, s: int, inputs: str, key: jax.Array, p: jax.Array,
         caps: tuple[int, ...] | None = None):
  """(len(m), 2) max and mean error of U-AND at every grid width, the mean number of
  features a neuron reads, and whether the exact worst case overflowed its gather sizes.
  p: the probability itself (UAndConfig.p_at(n)). caps: per block of widths at least
  `uand_active` (sums only active neurons; None: every neuron).

  Basis inputs with every_input: the max over every input, exact
  (constructions.uand_worst_errors); the mean is not measured (NaN)."""
  if exact_without_inputs(cfg, inputs):
    W, _ = uand_weights(keys.named(key, UAND), n, max(cfg.m), p)
    maxes, overflow = uand_worst_errors(W, cfg.m, s, p, cfg.active, max(cfg.p_at(n)),
                                        chunk=math.gcd(n, 32))
    means = jnp.full_like(maxes, jnp.nan)
  else:
    W, f, acts = _uand_layer(cfg, n, s, inputs, key, p)
    maxes, means = uand_prefix_errors(W, acts, f, cfg.m, s, p, caps)
    overflow = jnp.zeros((), bool)
  return jnp.stack([maxes, means], axis=1), features_per_neuron(W), overflow


def whitening(cfg: UAndConfig, key: jax.Array, n: int, s: int, act_fn,
              widths: tuple[int, ...]) -> list[jax.Array]:
  """The inverse Cholesky factors L^-1 (G = L L^T) of the layer's Gram matrix G of its fit
  inputs, one per width (the leading block of the widest layer's)."""
  fit = sample_inputs(keys.named(key, FIT), n, s, cfg.fit_inputs, cfg.active)
  A = act_fn(fit)
  raw = A.T @ A / A.shape[0]
  return [jax.scipy.linalg.solve_triangular(
      jnp.linalg.cholesky(readout.gram_from(raw[:w, :w], cfg.ridge)), jnp.eye(w), lower=True)
      for w in widths]


def fitted_errors(cfg: UAndConfig, key: jax.Array, n: int, s: int, act_fn, f: jax.Array,
                  widths: tuple[int, ...], single: bool, chunk: int = 512,
                  inverse: list[jax.Array] | None = None):
  """Max and mean error of matched readouts (superjax.uand.readout.matched, computed here
  in whitened form) fitted to the first w neurons of the layer `act_fn`, for every width w
  in `widths`.

  Neurons of a random layer are independent, so the Gram matrix and positive means of the
  widest layer hold every narrower one's in their leading block. Functions are processed
  `chunk` at a time so no (P, m) matrix is ever held.

  Args:
    act_fn: (N, n) features -> (N, max(widths)) activations. f: (N, n) test features.
    single: read the n single features instead of the n(n-1)/2 pairs.
    inverse: `whitening`'s factors, where the caller already has them.

  Returns:
    (len(widths), 2) max and mean error.
  """
  # Whitening by the inverse Cholesky factor L^-1 (G = L L^T): in the loop below only
  # matmuls remain: r . a = (L^-1 mu) . (L^-1 a) / |L^-1 mu|^2.
  if inverse is None:
    inverse = whitening(cfg, key, n, s, act_fn, widths)
  acts = act_fn(f)
  white_acts = [acts[:, :w] @ L.T for w, L in zip(widths, inverse)]
  i, j = (np.arange(n), np.arange(n)) if single else pair_index(n)
  count = len(i)
  pad = -count % chunk
  i, j = np.pad(i, (0, pad)), np.pad(j, (0, pad), constant_values=1)
  valid = np.arange(len(i)) < count

  def one(args):
    ii, jj, ok, k = args
    pos = sample_positives(k, n, s, ii, jj, cfg.positives, cfg.active)
    means = jnp.mean(act_fn(pos.reshape(-1, n)).reshape(len(ii), cfg.positives, -1), axis=1)
    targets = f[:, ii] * f[:, jj]
    out = []
    for w, L, white in zip(widths, inverse, white_acts):
      z = means[:, :w] @ L.T
      values = (white @ z.T) / jnp.sum(z * z, axis=1)[None, :]
      err = jnp.abs(values - targets) * ok[None, :]
      out.append(jnp.stack([jnp.max(err), jnp.sum(err)]))
    return jnp.stack(out)

  blocks = len(i) // chunk
  block_keys = jax.random.split(keys.named(key, POSITIVE), blocks)
  per_block = jax.lax.map(one, (jnp.asarray(i).reshape(blocks, chunk),
                                jnp.asarray(j).reshape(blocks, chunk),
                                jnp.asarray(valid, jnp.float32).reshape(blocks, chunk), block_keys))
  return jnp.stack([jnp.max(per_block[..., 0], axis=0),
                    jnp.sum(per_block[..., 1], axis=0) / (count * f.shape[0])], axis=1)


def fitted_widths(cfg: UAndConfig) -> tuple[int, ...]:
  return tuple(w for w in cfg.m if w <= cfg.fitted_max_m)


@functools.partial(jax.jit, static_argnums=(0, 1, 2, 3))
def random_mlp(cfg: UAndConfig, n: int, s: int, inputs: str, key: jax.Array):
  """(widths, 2) pair and (widths, 2) single-feature max and mean errors of a random MLP
  with matched readouts at every width up to fitted_max_m, and features per neuron."""
  widths = fitted_widths(cfg)
  E, embed = features_in(cfg, key, n, inputs)
  f = test_inputs(cfg, key, n, s)
  W, b = random_mlp_weights(keys.named(key, RANDOM), n if E is None else E.shape[0],
                            widths[-1])
  act_fn = lambda x: layer(W, b, embed(x))
  inverse = whitening(cfg, key, n, s, act_fn, widths)
  pair = fitted_errors(cfg, key, n, s, act_fn, f, widths, single=False, inverse=inverse)
  single = fitted_errors(cfg, key, n, s, act_fn, f, widths, single=True, inverse=inverse)
  return pair, single, features_per_neuron(W if E is None else W @ E)


@functools.partial(jax.jit, static_argnums=(0, 1, 2, 3))
def trained(cfg: UAndConfig, n: int, s: int, width: int, key: jax.Array,
            state: circuit.CircuitState) -> dict[str, jax.Array]:
  """A trained circuit's pair errors through its own output layer, single-feature errors
  of matched readouts on its hidden layer, and features per neuron; `key` is its seed's
  key (`seed_keys`), the one its training started from."""
  W1, b1, R = state.params
  embed = (lambda x: x) if state.E is None else (lambda x: x @ state.E.T)
  f = test_inputs(cfg, key, n, s)
  act_fn = lambda x: layer(W1, b1, embed(x))
  own = jnp.stack(readout.errors(act_fn(f) @ R.T, pair_targets(f)))
  single = fitted_errors(cfg, key, n, s, act_fn, f, (width,), single=True)[0]
  reads = features_per_neuron(W1 if state.E is None else W1 @ state.E)
  return {"pair": own, "single": single, "features_per_neuron": reads}

"""Worst cases over every input: U-AND's exact worst case without enumeration, the naive
layer's, the enumeration itself, and the mutually unbiased (hadamard) embedding, against
brute force in plain numpy."""

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from superjax.core.config import ConfigError
from superjax.uand import constructions as uand
from superjax.uand import inputs as boolean
from superjax.uand import measure
from superjax.uand.config import UAndConfig


def _brute_worst(W, x, widths, s, p):
  """Max over inputs x and pairs of |mean over holders of ReLU(x . S_k - 1) / (1 + (s-2)p)
  - x_i x_j| for the first w neurons, neuron by neuron."""
  W = np.asarray(W, np.float64)
  acts = np.maximum(x @ W.T - 1.0, 0.0)
  n = W.shape[1]
  out = []
  for w in widths:
    worst = 0.0
    for i, j in itertools.combinations(range(n), 2):
      holders = (W[:w, i] * W[:w, j]) > 0
      value = (acts[:, :w][:, holders].mean(axis=1) / (1 + (s - 2) * p) if holders.any()
               else np.zeros(len(x)))
      worst = max(worst, np.abs(value - x[:, i] * x[:, j]).max())
    out.append(worst)
  return np.asarray(out)


@pytest.mark.parametrize("n, s, mode, p", [(10, 2, "exact", 0.3), (12, 4, "exact", 0.25),
                                           (8, 4, "at_most", 0.4)])
def test_exact_worst_case_equals_brute_force_over_every_input(n, s, mode, p, every_input):
  widths = (6, 20, 50, 120)
  W = (jax.random.uniform(jax.random.key(n * s), (120, n)) < p).astype(jnp.float32)
  x = every_input(n, s, at_most=mode == "at_most")
  got, overflow = uand.uand_worst_errors(W, widths, s, jnp.float32(p), mode, p_max=p,
                                         chunk=math.gcd(n, 4))
  assert not bool(overflow)
  np.testing.assert_allclose(np.asarray(got), _brute_worst(W, x, widths, s, p), rtol=1e-5)


def test_gather_caps_bound_binomial_counts():
  # 8 standard deviations above the mean count of holders in each block, never past it.
  caps = uand.block_caps((100, 1000, 1100), 0.1)
  assert caps[0] == (0, 100, math.ceil(10 + 8 * math.sqrt(11) + 8))
  assert caps[1][:2] == (100, 1000) and caps[2] == (1000, 1100, caps[0][2])
  assert uand.block_caps((10,), 1.0) == [(0, 10, 10)]


def test_overflowing_gather_is_reported():
  W = jnp.ones((64, 4), jnp.float32)  # every neuron holds every feature: counts 64 > cap
  _, overflow = uand.uand_worst_errors(W, (64,), 2, jnp.float32(0.01), "exact", p_max=0.01,
                                       chunk=4)
  assert bool(overflow)


@pytest.mark.parametrize("mode", ["exact", "at_most"])
def test_naive_worst_case_against_brute_force(mode, every_input):
  n, s = 7, 3
  x = every_input(n, s, at_most=mode == "at_most")
  pairs = list(itertools.combinations(range(n), 2))
  truth = np.stack([x[:, i] * x[:, j] for i, j in pairs], axis=1)
  widths = (5, 21, 30)
  got = uand.naive_worst_errors(n, s, widths, mode)
  for row, w in zip(got, widths + (21,)):
    kept = np.arange(len(pairs)) < w
    err = np.abs(truth * kept - truth)  # each kept neuron is exact; a cut pair reads 0
    np.testing.assert_allclose(row, [err.max(), err.mean()], rtol=1e-6)


@pytest.mark.parametrize("mode", ["exact", "at_most"])
def test_every_input_enumerates_each_input_once(mode):
  n, s = 9, 3
  x = boolean.every_input(n, s, mode)
  counts = (s,) if mode == "exact" else range(s + 1)
  assert len(x) == boolean.input_count(n, s, mode) == sum(math.comb(n, k) for k in counts)
  assert len({r.tobytes() for r in x}) == len(x)
  assert set(x.sum(axis=1).astype(int)) == set(counts)


def test_hadamard_embedding_is_two_mutually_unbiased_bases():
  d0 = 16
  E = np.asarray(boolean.embedding(jax.random.key(3), 2 * d0, d0, "hadamard"), np.float64)
  np.testing.assert_array_equal(E[:, :d0], np.eye(d0))
  gram = E.T @ E
  np.testing.assert_allclose(np.diag(gram), 1.0, atol=1e-6)
  off = np.abs(gram[~np.eye(2 * d0, dtype=bool)])
  # Within a basis 0, across the two +-1/sqrt(d0) exactly.
  np.testing.assert_allclose(off[off > 1e-6], 1 / np.sqrt(d0), rtol=1e-6)
  assert np.abs(gram[:d0, :d0] - np.eye(d0)).max() < 1e-6
  assert np.abs(gram[d0:, d0:] - np.eye(d0)).max() < 1e-6
  # The signs are random: no standard direction overlaps every Hadamard one alike.
  assert np.abs(E[:, d0:].sum(axis=1)).max() < d0 / np.sqrt(d0)
  with pytest.raises(ValueError, match="n = 2 d0"):
    boolean.embedding(jax.random.key(0), 24, 12, "hadamard")


@pytest.mark.parametrize("change, words", [
    ({"embedding": "hadamard", "d0_scale": 0.25}, "embedding: hadamard stores n features"),
    ({"embedding": "hadamard", "n": (8, 12)}, "n: 12: a hadamard embedding needs"),
    ({"embedding": "dense"}, "embedding: 'dense' is not one of"),
    ({"eps": (0.3, 0.2)}, "eps: values must be distinct and increasing"),
    ({"every_input": True, "n": (8, 512), "constructions": ("random_mlp",),
      "fitted_max_n": 512}, "every_input: n = 512, s = 2 has 130,816 inputs"),
])
def test_new_fields_are_validated(change, words):
  base = {"name": "x", "n": (8, 16), "m": (32, 64), "trained_m": (32,)}
  with pytest.raises(ConfigError) as info:
    UAndConfig(**{**base, **change})
  assert words in str(info.value)
  # U-AND and naive on basis inputs need no enumeration: any n is allowed.
  UAndConfig(**{**base, "n": (8, 512), "every_input": True, "constructions": ("naive", "uand"),
                "inputs": ("basis",)})


def test_summing_only_active_neurons_changes_no_measurement():
  """measure.uand with the gather sizes measure.uand_active finds equals the dense sum."""
  cfg = UAndConfig(name="x", constructions=("uand",), inputs=("superposed",), n=(16,),
                   m=(16, 48, 96), trained_m=(16,), p=(0.2,), test_inputs=12,
                   embedding="hadamard")
  key, p = measure.seed_keys(cfg, 16, 2, "superposed")[0], jnp.float32(0.2)
  caps = tuple(int(c) for c in measure.uand_active(cfg, 16, 2, "superposed", key, p))
  assert caps[-1] < 48  # the gather path is taken in the widest block
  dense, _, _ = measure.uand(cfg, 16, 2, "superposed", key, p)
  sparse, _, overflow = measure.uand(cfg, 16, 2, "superposed", key, p, caps)
  np.testing.assert_allclose(np.asarray(sparse), np.asarray(dense), rtol=1e-5, atol=1e-6)
  assert not bool(overflow)

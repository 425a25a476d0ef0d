"""The depth study's circuit, layers and measurements, against plain python and numpy over
every input of small cases."""


import jax
import jax.numpy as jnp
import numpy as np
import pytest

from superjax.core import keys
from superjax.core.config import ConfigError
from superjax.deep_circuits import circuit, layers, network
from superjax.deep_circuits.config import DeepCircuitsConfig


def _python_layer(w, x):
  """The next layer of one input by plain boolean logic."""
  first, second, is_and = (np.asarray(a) for a in (w.first, w.second, w.is_and))
  return [float((bool(x[a]) and bool(x[b])) if g else (bool(x[a]) or bool(x[b])))
          for a, b, g in zip(first, second, is_and)]


def _wirings(key, n, depth):
  return [circuit.layer_wiring(key, n, jnp.int32(t)) for t in range(depth)]


def test_every_layer_is_a_comparator_layer():
  n = 10
  for w in _wirings(jax.random.key(3), n, 4):
    first, second, is_and = (np.asarray(a) for a in (w.first, w.second, w.is_and))
    assert np.all(first != second)
    pairs = {}
    for a, b, g in zip(first, second, is_and):
      pairs.setdefault((a, b), []).append(g)
    # n/2 disjoint pairs covering every feature, each giving one AND and one OR.
    assert len(pairs) == n // 2
    assert sorted(np.concatenate([list(p) for p in pairs])) == list(range(n))
    assert all(sorted(g) == [0.0, 1.0] for g in pairs.values())


def test_circuit_matches_plain_logic_on_every_input_and_keeps_the_count(every_input):
  n, s, depth = 6, 3, 5
  x = every_input(n, s, at_most=True)
  f, rows = jnp.asarray(x), [list(r) for r in x]
  for w in _wirings(jax.random.key(0), n, depth):
    f = circuit.evaluate(w, f)
    rows = [_python_layer(w, r) for r in rows]
    np.testing.assert_array_equal(np.asarray(f), np.asarray(rows, np.float32))
    np.testing.assert_array_equal(np.asarray(f).sum(axis=1), x.sum(axis=1))


def test_naive_layers_are_exact_through_depth(every_input):
  n, s = 6, 3
  x = jnp.asarray(every_input(n, s, at_most=True))
  truth = v = x
  for w in _wirings(jax.random.key(1), n, 6):
    truth, v = circuit.evaluate(w, truth), layers.naive_step(w, v)
    np.testing.assert_array_equal(np.asarray(v), np.asarray(truth))


def _numpy_uand_step(W, w, v, s, p):
  """The U-AND layer and its readouts by their definitions (layers module docstring)."""
  W, v = np.asarray(W, np.float64), np.asarray(v, np.float64)
  half = W.shape[0] // 2
  Ws, Wa = W[:half], W[half:]
  single = np.maximum(v @ Ws.T, 0)
  both = np.maximum(v @ Wa.T - 1, 0)
  out = np.zeros((v.shape[0], len(w.first)))
  for k, (a, b, g) in enumerate(zip(*(np.asarray(z) for z in (w.first, w.second, w.is_and)))):
    holders = (Wa[:, a] * Wa[:, b]) > 0
    pair = both[:, holders].mean(axis=1) / (1 + (s - 2) * p) if holders.any() else 0.0
    read = []
    for i in (a, b):
      on = Ws[:, i] > 0
      read.append((single[:, on].mean(axis=1) if on.any() else 0.0)
                  - (single[:, ~on].mean(axis=1) if (~on).any() else 0.0))
    out[:, k] = pair if g else read[0] + read[1] - pair
  return out


@pytest.mark.parametrize("s", [2, 3])
def test_uand_layer_readouts_match_numpy_on_every_input(s, every_input):
  n, m, p = 6, 96, 0.4
  x = every_input(n, s, at_most=True)
  key = jax.random.key(7)
  w = circuit.wiring(jax.random.fold_in(key, 0), n)
  W = layers.uand_layer_weights(jax.random.fold_in(key, 1), n, m, jnp.float32(p))
  R = layers.readouts(W, w, s, jnp.float32(p))
  assert R.shape == (n, m)
  got = np.asarray(layers.uand_step(W, R, jnp.asarray(x)))
  np.testing.assert_allclose(got, _numpy_uand_step(W, w, x, s, p), atol=1e-5)
  # Noisy inputs too: the next layer reads readouts, not booleans.
  noisy = x + 0.1 * np.random.default_rng(0).standard_normal(x.shape).astype(np.float32)
  np.testing.assert_allclose(np.asarray(layers.uand_step(W, R, jnp.asarray(noisy))),
                             _numpy_uand_step(W, w, noisy, s, p), atol=1e-5)


def test_single_readout_on_a_hand_checkable_block():
  # Four neurons with subsets {0,1}, {1,2}, {2,3}, {0,3}.
  Ws = np.array([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1], [1, 0, 0, 1]], np.float32)
  r = np.asarray(layers.single_readouts(jnp.asarray(Ws)))
  # Feature 0 is held by neurons 0 and 3: +1/2 each; the others: -1/2 each.
  np.testing.assert_allclose(r[0], [0.5, -0.5, -0.5, 0.5])
  np.testing.assert_allclose(r.sum(axis=1), 0.0, atol=1e-7)
  # On x = {0}: the neurons read 1, 0, 0, 1; feature 0 reads 1 - 0, feature 2 reads 0 - 1
  # (a layer this small is far from its expectation).
  acts = np.maximum(np.array([1, 0, 0, 0], np.float32) @ Ws.T, 0)
  np.testing.assert_allclose(acts @ r.T, [1.0, 0.0, -1.0, 0.0])


def test_correction_is_exact_within_a_quarter():
  rng = np.random.default_rng(0)
  f = rng.integers(0, 2, (500, 9)).astype(np.float32)
  e = rng.uniform(-0.2499, 0.2499, f.shape).astype(np.float32)
  np.testing.assert_array_equal(np.asarray(layers.correct(jnp.asarray(f + e))), f)
  # Between the margins it interpolates: a value at 1/2 stays 1/2.
  np.testing.assert_allclose(np.asarray(layers.correct(jnp.asarray([0.5, 0.375, 2.0, -1.0]))),
                             [0.5, 0.25, 1.0, 0.0])


def test_network_epsilon_matches_numpy_recomputation():
  c = network.Network(n=6, s=2, m=64, active="exact", test_inputs=15)
  key = jax.random.key(11)
  p = jnp.float32(0.3)
  state = network.init_state(c, key)
  f = np.asarray(state.truth, np.float64)
  rows = [list(r) for r in f]
  unc = cor = f
  for t in range(4):
    step_key = keys.step_key(key, t)
    state, metrics = network.step(c, state, {"p": p}, step_key, jnp.int32(t))
    w, W, _ = network.layer_weights(c, step_key, p, jnp.int32(t))
    rows = [_python_layer(w, r) for r in rows]
    truth = np.asarray(rows)
    unc = _numpy_uand_step(W, w, unc, c.s, 0.3)
    before = _numpy_uand_step(W, w, cor, c.s, 0.3)
    cor = 2 * np.maximum(before - 0.25, 0) - 2 * np.maximum(before - 0.75, 0)
    for name, values in zip(network.READOUTS, (unc, before, cor)):
      err = np.abs(values - truth)
      assert float(metrics[f"{name}_max"]) == pytest.approx(err.max(), abs=1e-4), (t, name)
      assert float(metrics[f"{name}_mean"]) == pytest.approx(err.mean(), abs=1e-5), (t, name)
    np.testing.assert_array_equal(np.asarray(state.truth), truth)


@pytest.mark.parametrize("change, field", [({"n": 7}, "n"), ({"s": 1}, "s"),
                                           ({"m": (64, 32)}, "m"), ({"p": (0.0,)}, "p"),
                                           ({"depth": 0}, "depth"), ({"active": "all"}, "active")])
def test_bad_configs_are_refused_in_one_line(change, field):
  with pytest.raises(ConfigError, match=rf"^{field}: ") as info:
    DeepCircuitsConfig(name="x", **change)
  assert "\n" not in str(info.value)

"""U-AND with superposed inputs, the p rule and the bootstrap interval, against brute force
over every input and plain numpy (the claims: test_claims.py)."""


import jax
import jax.numpy as jnp
import numpy as np
import pytest

from superjax.core.config import ConfigError
from superjax.uand import constructions as uand
from superjax.uand import inputs as boolean
from superjax.uand.config import UAndConfig
from superjax.uand.report import bootstrap_slope


@pytest.mark.parametrize("s", [2, 3])
def test_superposed_uand_errors_against_loops_over_every_input(s, every_input):
  """Every input with s of 6 features on, stored in d0 = 4 dimensions: the layer's U-AND
  readouts computed neuron by neuron in numpy give the code's max and mean errors."""
  n, d0, m, p = 6, 4, 40, 0.5
  E = np.asarray(boolean.embedding(jax.random.key(0), n, d0), np.float64)
  W = np.asarray(uand.uand_weights(jax.random.key(1), n, m, jnp.float32(p))[0], np.float64)
  f = every_input(n, s)
  pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
  widths = (10, 25, 40)
  # The layer sees only E f; neuron k's weights are the sum of its subset's directions.
  acts = np.zeros((len(f), m))
  for row, x in enumerate(f):
    stored = sum(x[i] * E[:, i] for i in range(n))
    for k in range(m):
      acts[row, k] = max(0.0, sum(W[k, i] * (E[:, i] @ stored) for i in range(n)) - 1.0)
  got_max, got_mean = uand.uand_prefix_errors(jnp.asarray(W, jnp.float32),
                                              jnp.asarray(acts, jnp.float32),
                                              jnp.asarray(f), widths, s, jnp.float32(p))
  for w, gm, gn in zip(widths, np.asarray(got_max), np.asarray(got_mean)):
    err = []
    for row, x in enumerate(f):
      for i, j in pairs:
        holders = [k for k in range(w) if W[k, i] and W[k, j]]
        value = (np.mean(acts[row, holders]) / (1 + (s - 2) * p)) if holders else 0.0
        err.append(abs(value - x[i] * x[j]))
    assert gm == pytest.approx(max(err), rel=1e-4, abs=1e-5)
    assert gn == pytest.approx(np.mean(err), rel=1e-4, abs=1e-5)
  # Summing only each input's active neurons (gathered per block) changes nothing.
  caps = tuple(int(c) for c in uand.active_counts(jnp.asarray(acts), widths))
  assert max(caps) < 15 and caps == tuple(
      int(max(np.sum(acts[:, lo:hi] > 0, axis=1))) for lo, hi in zip((0, 10, 25), widths))
  sparse = uand.uand_prefix_errors(jnp.asarray(W, jnp.float32), jnp.asarray(acts, jnp.float32),
                                   jnp.asarray(f), widths, s, jnp.float32(p), caps)
  np.testing.assert_allclose(np.stack(sparse), np.stack([got_max, got_mean]), rtol=1e-5)
  # The code's layer on E f equals the loop's activations.
  layer = uand.layer(jnp.asarray(W @ E.T, jnp.float32), -jnp.ones(m), jnp.asarray(f @ E.T))
  np.testing.assert_allclose(layer, acts, rtol=1e-4, atol=1e-5)
  # The features read through their own directions, input by input.
  worst = max(abs(E[:, i] @ (E @ x) - x[i]) for x in f for i in range(n))
  got = float(boolean.input_errors(jnp.asarray(E, jnp.float32), jnp.asarray(f)))
  assert got == pytest.approx(worst, rel=1e-5)


def test_p_rule_follows_its_formula_and_is_validated():
  cfg = UAndConfig(name="x", n=(16, 256), m=(32,), trained_m=(32,), p=(0.5, 1.0),
                   p_exponent=0.25)
  assert cfg.p_at(16) == pytest.approx((0.25, 0.5))
  assert cfg.p_at(256) == pytest.approx((0.125, 0.25))
  # The default keeps p as the probabilities themselves.
  assert UAndConfig(name="x", p=(0.1, 0.2)).p_at(512) == (0.1, 0.2)
  with pytest.raises(ConfigError, match=r"p: 2 \* n\*\*-0.25 = 1 exceeds 1 at n = 16|exceeds 1"):
    UAndConfig(name="x", n=(8, 16), m=(32,), trained_m=(32,), p=(2.0,), p_exponent=0.25)
  with pytest.raises(ConfigError, match="p_exponent: 1.5 is outside the allowed range"):
    UAndConfig(name="x", p_exponent=1.5)
  with pytest.raises(ConfigError, match="p: 1.5 is outside the allowed range"):
    UAndConfig(name="x", p=(1.5,))


def test_uncapped_input_width():
  assert boolean.superposed_dims(64, 16.0, 0.75) == 64
  assert boolean.superposed_dims(64, 16.0, 0.75, at_most_n=False) == int(np.ceil(16 * 64 ** 0.75))
  assert boolean.superposed_dims(512, 16.0, 0.75, at_most_n=False) == 1723


def test_bootstrap_interval_against_numpy():
  rng = np.random.default_rng(7)
  n = np.array([16.0, 32, 64, 128, 256])
  needed = 10 * n[:, None] ** 0.5 * np.exp(rng.normal(0, 0.3, (5, 4)))
  needed[4, 2] = np.nan
  slope, low, high = bootstrap_slope(n, needed, samples=300, seed=3)
  # Recomputed: the same draws of seeds, the seed-geometric mean, a log-log line fit over
  # the n whose drawn seeds all reached the target.
  def fit(rows):
    logs = np.log(rows).mean(axis=1)
    ok = np.isfinite(logs)
    return np.polyfit(np.log(n[ok]), logs[ok], 1)[0]
  draws_rng = np.random.default_rng(3)
  draws = [fit(needed[:, draws_rng.integers(0, 4, 4)]) for _ in range(300)]
  assert slope == pytest.approx(fit(needed))
  assert low == pytest.approx(np.percentile(draws, 2.5))
  assert high == pytest.approx(np.percentile(draws, 97.5))
  assert low < slope < high

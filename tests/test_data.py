import jax
import jax.numpy as jnp
import numpy as np
import pytest

from superjax import data


def assert_within(got, want, tol):
  """Elementwise |got - want| <= tol (tol may differ per element: a few standard errors)."""
  assert np.all(np.abs(np.asarray(got) - want) <= tol), (got, want, tol)


@pytest.mark.parametrize("signed", [False, True])
def test_moments_match_closed_form(signed):
  density = jnp.array([1.0, 0.5, 0.1, 0.01])
  x = np.asarray(data.sample_features(jax.random.key(0), density, 400_000, signed))
  p = np.asarray(density)
  # nonzero with probability p; value U[0,1): mean p/2, second moment p/3;
  # U[-1,1): mean 0, second moment p/3.
  samples = x.shape[0]
  assert_within((x != 0).mean(0), p, 5 * np.sqrt(p * (1 - p) / samples) + 1e-6)
  mean = 0.0 * p if signed else p / 2
  assert_within(x.mean(0), mean, 5 * np.sqrt(p / 3 / samples))
  assert_within((x ** 2).mean(0), p / 3, 5 * np.sqrt(p / 5 / samples))
  nonzero = x[:, 2][x[:, 2] != 0]
  low = -1.0 if signed else 0.0
  assert nonzero.min() >= low and nonzero.max() < 1.0
  # Values are uniform given the feature is on: deciles of the nonzero values.
  deciles = np.quantile(nonzero, np.linspace(0.1, 0.9, 9))
  np.testing.assert_allclose(deciles, low + (1 - low) * np.linspace(0.1, 0.9, 9), atol=0.02)


def test_features_are_independent():
  x = np.asarray(data.sample_features(jax.random.key(1), jnp.full((3,), 0.3), 200_000))
  on = (x != 0).astype(np.float64)
  both = (on[:, 0] * on[:, 1]).mean()
  assert abs(both - 0.09) < 5 * np.sqrt(0.09 * 0.91 / 200_000)


def test_step_indexed_keys_reproduce_batches():
  key = jax.random.key(7)
  density = jnp.full((5,), 0.2)
  a = data.sample_features(jax.random.fold_in(key, 123), density, 32)
  b = data.sample_features(jax.random.fold_in(key, 123), density, 32)
  c = data.sample_features(jax.random.fold_in(key, 124), density, 32)
  assert np.array_equal(a, b) and not np.array_equal(a, c)

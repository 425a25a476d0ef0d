import jax
import jax.numpy as jnp
import numpy as np
import pytest

from superjax.toy import data


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


def _on(correlation, density, samples=300_000, set_size=3, key=2):
  x = np.asarray(data.sample_features(jax.random.key(key), jnp.asarray(density), samples,
                                      set_size=set_size, correlation=correlation))
  return x, (x != 0).astype(np.float64)


@pytest.mark.parametrize("correlation", [data.INDEPENDENT, data.CORRELATED, data.ANTICORRELATED])
def test_sets_keep_each_features_density_and_uniform_values(correlation):
  # Unequal densities within a set: each feature's marginal must still be its own.
  density = np.array([0.1, 0.2, 0.3, 0.05, 0.05, 0.4])
  x, on = _on(correlation, density)
  samples = x.shape[0]
  assert_within(on.mean(0), density, 5 * np.sqrt(density * (1 - density) / samples))
  for i in range(6):
    values = x[:, i][on[:, i] > 0]
    assert values.min() >= 0 and values.max() < 1
    assert abs(values.mean() - 0.5) < 5 * np.sqrt(1 / 12 / values.size)


def test_correlated_sets_fire_together():
  p, samples = 0.2, 300_000
  _, on = _on(data.CORRELATED, np.full(6, p), samples)
  se = 5 * np.sqrt(p * (1 - p) / samples)
  # Same set: P(both) = p (one draw gates the set); different sets: independent, p^2.
  assert abs((on[:, 0] * on[:, 2]).mean() - p) < se
  assert abs((on[:, 1] * on[:, 4]).mean() - p * p) < se
  np.testing.assert_array_equal(on[:, 0], on[:, 1])


def test_anticorrelated_sets_never_fire_together():
  p, samples = 0.2, 300_000
  _, on = _on(data.ANTICORRELATED, np.full(6, p), samples)
  assert on[:, :3].sum(1).max() == 1 and on[:, 3:].sum(1).max() == 1
  # P(some member of a set on) = 3p; sets are independent of each other.
  assert abs(on[:, :3].max(1).mean() - 3 * p) < 5 * np.sqrt(0.6 * 0.4 / samples)
  assert abs((on[:, 0] * on[:, 3]).mean() - p * p) < 5 * np.sqrt(p * p / samples)


def test_correlation_may_be_traced():
  density = jnp.full((6,), 0.3)
  fn = jax.jit(lambda c: data.sample_features(jax.random.key(0), density, 8, set_size=3,
                                              correlation=c))
  for c in (data.INDEPENDENT, data.CORRELATED, data.ANTICORRELATED):
    np.testing.assert_array_equal(fn(jnp.int32(c)), data.sample_features(
        jax.random.key(0), density, 8, set_size=3, correlation=c))

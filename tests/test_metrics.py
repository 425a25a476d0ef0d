import numpy as np

from superjax import metrics


def _numpy_geometry(W):
  m, n = W.shape
  norms = np.array([np.linalg.norm(W[:, i]) for i in range(n)])
  D, sup = np.zeros(n), np.zeros(n)
  for i in range(n):
    if norms[i] == 0:
      continue
    hat = W[:, i] / norms[i]
    proj = np.array([(hat @ W[:, j]) ** 2 for j in range(n)])
    D[i] = norms[i] ** 2 / proj.sum()
    sup[i] = proj.sum() - proj[i]
  return {"features_per_dim": (W ** 2).sum() / m, "feature_norm": norms,
          "dimensionality": D, "superposition": sup}


def test_antipodal_pair_has_dimensionality_half():
  W = np.array([[1.0, -1.0, 0.0], [0.0, 0.0, 1.0]])
  g = metrics.geometry(W)
  np.testing.assert_allclose(g["dimensionality"], [0.5, 0.5, 1.0], atol=1e-6)
  np.testing.assert_allclose(g["superposition"], [1.0, 1.0, 0.0], atol=1e-6)
  np.testing.assert_allclose(g["features_per_dim"], 1.5, atol=1e-6)


def test_pentagon_has_dimensionality_two_fifths():
  angles = 2 * np.pi * np.arange(5) / 5
  W = np.stack([np.cos(angles), np.sin(angles)])
  g = metrics.geometry(W)
  np.testing.assert_allclose(g["dimensionality"], 0.4, atol=1e-5)
  np.testing.assert_allclose(g["features_per_dim"], 2.5, atol=1e-5)


def test_random_matrix_matches_numpy_including_a_dead_feature():
  W = np.random.default_rng(0).normal(size=(4, 9)).astype(np.float32)
  W[:, 3] = 0
  got = metrics.geometry(W)
  want = _numpy_geometry(W.astype(np.float64))
  for name, value in want.items():
    np.testing.assert_allclose(got[name], value, rtol=1e-5, atol=1e-6, err_msg=name)

import jax.numpy as jnp
import numpy as np

from superjax.toy import metrics


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


def _polygon(k, radius=1.0):
  angles = 2 * np.pi * np.arange(k) / k
  return radius * np.stack([np.cos(angles), np.sin(angles)])


def test_dimensionality_of_polytopes():
  # Triangle in 2-D: 2/3 each; tetrahedron in 3-D: 3/4 each (vertices of a cube).
  np.testing.assert_allclose(metrics.dimensionality(jnp.asarray(_polygon(3))), 2 / 3, rtol=1e-5)
  tetra = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], np.float32).T / np.sqrt(3)
  np.testing.assert_allclose(metrics.dimensionality(jnp.asarray(tetra)), 3 / 4, rtol=1e-5)


def test_neuron_polysemanticity_counts_features_read():
  W = np.array([[0.0, 2.0, 0.0, 0.0], [1.0, 1.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]], np.float32)
  np.testing.assert_allclose(metrics.neuron_polysemanticity(jnp.asarray(W)), [1.0, 3.0, 0.0],
                             rtol=1e-6)


def test_configuration_names_pentagon_and_antipodal_pairs():
  assert metrics.configuration(_polygon(5)) == "5 features, 0 antipodal pairs"
  two_pairs = np.array([[1, -1, 0, 0, 0.1], [0, 0, 1, -1, 0.0]])
  assert metrics.configuration(two_pairs) == "4 features, 2 antipodal pairs"


def test_sticky_share_and_set_cosines():
  share, count = metrics.sticky_share(np.array([0.5, 0.505, 0.667, 0.45, 0.1, 1.0]))
  assert count == 5 and share == 4 / 5  # 0.1 is not represented; 0.45 is not sticky
  # Octahedron: sets {0, 1, 2} on the axes, {3, 4, 5} their antipodes.
  W = np.concatenate([np.eye(3), -np.eye(3)], axis=1)
  same, other = metrics.set_cosines(W, 3)
  assert same == 0.0 and np.isclose(other, -1 / 3)


def _relu(z):
  return np.maximum(z, 0)


def test_inhibition_motif_of_a_hand_built_abs_circuit():
  # Features a=0, b=1. Neuron 0 reads a strongly and b weakly, [2, -1/2]: it fires for
  # x_a > 0 and for x_b < 0, and output b reads it with weight 2, so x_b = -1 gives
  # |x_b| = 1. A lone x_a = 1 then pushes output b by 2 x 2 = 4; neuron 1 fires for
  # x_a > 0 too and inhibits output b with weight -4.
  W = np.array([[2.0, -0.5], [1.0, 0.0]])
  W_out = np.array([[0.5, 0.0], [2.0, -4.0]])
  b = np.zeros(2)
  model = lambda x: _relu(W_out @ _relu(W @ x) + b)
  np.testing.assert_allclose(model(np.array([0.0, -1.0])), [0.25, 1.0])  # computes |x_b|
  np.testing.assert_allclose(model(np.array([1.0, 0.0])), [1.0, 0.0])  # interference off
  (motif,) = metrics.inhibition_motifs(W, W_out, b)
  assert (motif.source, motif.target, motif.sign, motif.carrier, motif.inhibitor) == (0, 1, 1, 0, 1)
  np.testing.assert_allclose([motif.interference, motif.net], [4.0, 0.0])
  # Without the inhibitor the interference reaches the output: no motif.
  W_out[1, 1] = 0.0
  assert model(np.array([1.0, 0.0]))[1] == 4.0
  assert metrics.inhibition_motifs(W, W_out, b) == []
  # A balanced neuron (no lopsided weights) is superposition, not this motif.
  W_out[1, 1] = -4.0
  assert metrics.inhibition_motifs(np.array([[2.0, -2.0], [1.0, 0.0]]), W_out, b) == []


def test_feature_sides_of_a_hand_built_abs_model():
  # Feature 0 has a neuron per sign (|x_0| exactly); feature 1 only its positive side;
  # feature 2 a neuron per sign whose pushes a bias of -0.8 cuts to 0.2 (below 0.5).
  W = np.array([[1.0, 0, 0], [-1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0], [0, 0, -1.0]])
  W_out = np.zeros((3, 5))
  W_out[0, :2] = W_out[1, 2] = W_out[2, 3:] = 1.0
  b = np.array([0.0, 0.0, -0.8])
  model = lambda x: _relu(W_out @ _relu(W @ x) + b)
  np.testing.assert_allclose(model(np.array([-0.7, -0.7, 0.0])), [0.7, 0.0, 0.0])
  np.testing.assert_array_equal(metrics.feature_sides(W, W_out, b),
                                [[True, True], [True, False], [False, False]])
  # A bias that lifts the resting output counts only the rise above it.
  np.testing.assert_array_equal(metrics.feature_sides(W, W_out, b + 0.6)[2], [True, True])

"""Universal AND (U-AND): boolean inputs and one-layer ReLU constructions of every pairwise AND.

Setting (Hänni et al. 2024): m boolean features, at most s of them active per input. A
layer `a(x) = ReLU(W x + b)` of width d computes U-AND when, for every pair i < j, some
readout vector r_ij gives `r_ij . a(x) ~ x_i x_j` on every input (superjax.readout measures
how well). Inputs come in two settings:

  basis       the features are the input coordinates: x in {0, 1}^m.
  superposed  the features are stored as random unit directions e_i in d0 < m dimensions:
              the input is E f with E of shape (d0, m). A layer reads feature i through
              e_i, so every read carries interference sum_{j active, j != i} e_i . e_j.

Constructions (first layers; readouts are in superjax.readout or below):

  naive       one neuron ReLU(x_i + x_j - 1) per pair: m(m-1)/2 neurons, exact on basis inputs.
  uand        neuron k reads a random subset S_k (each feature with probability p):
              ReLU(sum_{i in S_k} x_i - 1); AND(i, j) is the mean over neurons whose subset
              holds both, divided by 1 + (s - 2) p (its expected value when both are on).
  random_mlp  Gaussian weights and bias (Theorem 3); readouts are fitted.
  trained     a one-layer MLP trained with optax to output every pairwise AND.

Every function works on ONE layer; the sweep vmaps over seeds and p. Pairs are ordered as
`numpy.triu_indices(m, 1)`.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

INPUTS = ("basis", "superposed")
CONSTRUCTIONS = ("naive", "uand", "random_mlp", "trained")
ACTIVE_MODES = ("exact", "at_most")


def pair_count(m: int) -> int:
  return m * (m - 1) // 2


def pair_index(m: int) -> tuple[np.ndarray, np.ndarray]:
  """(P,), (P,) the features i < j of every pair, P = m(m-1)/2."""
  return np.triu_indices(m, 1)


def sample_inputs(key: jax.Array, m: int, s: int, n: int, mode: str = "exact") -> jax.Array:
  """Boolean inputs with exactly s (mode "exact") or at most s ("at_most") active features.

  With "at_most" the number active is uniform on {0, ..., s}. Which features are active is
  uniform given the number.

  Returns:
    (n, m) float32 in {0, 1}.
  """
  k_order, k_count = jax.random.split(key)
  # Rank of each feature in a random order: the first `count` ranks are active.
  ranks = jnp.argsort(jnp.argsort(jax.random.uniform(k_order, (n, m)), axis=1), axis=1)
  if mode == "exact":
    count = jnp.full((n, 1), s)
  else:
    count = jax.random.randint(k_count, (n, 1), 0, s + 1)
  return (ranks < count).astype(jnp.float32)


def sample_positives(key: jax.Array, m: int, s: int, i: jax.Array, j: jax.Array,
                     n: int, mode: str = "exact") -> jax.Array:
  """Inputs on which AND(i, j) is on: i and j plus k - 2 other features, k = s ("exact")
  or uniform on {2, ..., s} ("at_most").

  Args:
    i, j: (P,) int pair features.

  Returns:
    (P, n, m) float32.
  """
  k_order, k_count = jax.random.split(key)
  shape = (i.shape[0], n, m)
  onehot = (jax.nn.one_hot(i, m) + jax.nn.one_hot(j, m))[:, None, :]
  # The pair's own features get the lowest ranks, so they are always among the first k.
  u = jax.random.uniform(k_order, shape) + 2.0 * (1.0 - onehot)
  ranks = jnp.argsort(jnp.argsort(u, axis=2), axis=2)
  if mode == "exact":
    count = jnp.full((i.shape[0], n, 1), s)
  else:
    count = jax.random.randint(k_count, (i.shape[0], n, 1), 2, s + 1)
  return (ranks < count).astype(jnp.float32)


def pair_targets(x: jax.Array) -> jax.Array:
  """(n, m) boolean inputs -> (n, P) every pairwise AND x_i x_j, i < j."""
  i, j = pair_index(x.shape[-1])
  return x[..., i] * x[..., j]


def embedding(key: jax.Array, m: int, d0: int) -> jax.Array:
  """(d0, m) random unit columns: the directions of superposed features."""
  E = jax.random.normal(key, (d0, m))
  return E / jnp.linalg.norm(E, axis=0, keepdims=True)


def superposed_dims(m: int, scale: float, exponent: float) -> int:
  """d0 = min(m, ceil(scale * m**exponent)): the input width of the superposed setting."""
  return int(min(m, int(np.ceil(scale * m ** exponent - 1e-9))))


def layer(W: jax.Array, b: jax.Array, x: jax.Array) -> jax.Array:
  """ReLU(x W^T + b): (n, n_in) inputs, W (d, n_in), b (d,) -> (n, d) activations."""
  return jax.nn.relu(x @ W.T + b[None, :])


def naive_weights(m: int) -> tuple[jax.Array, jax.Array]:
  """W (P, m) with ones at i and j in row (i, j), b = -1: ReLU(x_i + x_j - 1) per pair.
  Its readouts are the identity: neuron (i, j) is AND(i, j)."""
  i, j = pair_index(m)
  W = np.zeros((pair_count(m), m), np.float32)
  W[np.arange(len(i)), i] = 1.0
  W[np.arange(len(j)), j] = 1.0
  return jnp.asarray(W), -jnp.ones((len(i),), jnp.float32)


def uand_weights(key: jax.Array, m: int, d: int, p: jax.Array) -> tuple[jax.Array, jax.Array]:
  """W (d, m) with each entry 1 with probability p (neuron k's subset S_k), b = -1."""
  W = (jax.random.uniform(key, (d, m)) < p).astype(jnp.float32)
  return W, -jnp.ones((d,), jnp.float32)


def uand_scale(s: int, p: jax.Array) -> jax.Array:
  """Divisor of the U-AND mean: with both features of a pair on and s on in all, a neuron
  holding the pair reads 1 + (number of the other s - 2 in its subset), mean 1 + (s-2) p."""
  return 1.0 + (s - 2) * p


def uand_pair_values(W: jax.Array, acts: jax.Array, s: int, p: jax.Array) -> jax.Array:
  """U-AND readouts applied to activations, without building the (P, d) readout matrix.

  r_ij . a = sum_k W_ki W_kj a_k / (n_ij (1 + (s - 2) p)), n_ij = sum_k W_ki W_kj (the
  neurons holding both); a pair no neuron holds reads 0.

  Args:
    W: (d, m) 0/1 subsets. acts: (n, d).

  Returns:
    (n, P) readout values.
  """
  i, j = pair_index(W.shape[1])
  total = jnp.einsum("nk,ki,kj->nij", acts, W, W)[:, i, j]
  count = (W.T @ W)[i, j]
  return total / (jnp.maximum(count, 1.0) * uand_scale(s, p))[None, :]


def uand_readouts(W: jax.Array, s: int, p: jax.Array) -> jax.Array:
  """(P, d) explicit U-AND readouts (small m only; the sweep uses uand_pair_values)."""
  i, j = pair_index(W.shape[1])
  holds = W[:, i].T * W[:, j].T
  count = jnp.maximum(jnp.sum(holds, axis=1, keepdims=True), 1.0)
  return holds / (count * uand_scale(s, p))


def uand_prefix_errors(W: jax.Array, acts: jax.Array, x: jax.Array, widths: tuple[int, ...],
                       s: int, p: jax.Array) -> tuple[jax.Array, jax.Array]:
  """Pair errors of the U-AND made of the first w neurons, for every w in `widths`.

  Neurons are drawn independently, so the first w rows of a wider layer are a layer of
  width w: one pass over the widest layer, accumulating neuron blocks, measures all widths.

  Args:
    W: (d, m) 0/1 subsets, d >= max(widths). acts: (n, d) activations of the whole layer.
    x: (n, m) the boolean features. widths: increasing ints.

  Returns:
    (len(widths),) max and (len(widths),) mean of |r_ij . a(x) - x_i x_j| over inputs and pairs.
  """
  i, j = pair_index(W.shape[1])
  bounds = list(zip((0,) + tuple(widths[:-1]), widths))
  count, counts = jnp.zeros((W.shape[1],) * 2), []
  for lo, hi in bounds:
    count = count + W[lo:hi].T @ W[lo:hi]
    counts.append(jnp.maximum(count[i, j], 1.0) * uand_scale(s, p))
  targets = pair_targets(x)

  def one(args):
    a, t = args
    total, maxes, means = jnp.zeros((W.shape[1],) * 2), [], []
    for (lo, hi), norm in zip(bounds, counts):
      total = total + (W[lo:hi].T * a[None, lo:hi]) @ W[lo:hi]
      err = jnp.abs(total[i, j] / norm - t)
      maxes.append(jnp.max(err))
      means.append(jnp.mean(err))
    return jnp.stack(maxes), jnp.stack(means)

  maxes, means = jax.lax.map(one, (acts, targets))
  return jnp.max(maxes, axis=0), jnp.mean(means, axis=0)


def features_per_neuron(W: jax.Array) -> jax.Array:
  """Mean over neurons of the participation ratio (sum_i W_ki^2)^2 / sum_i W_ki^4 of the
  neuron's weights on the m features: k for a neuron reading k features equally (a U-AND
  neuron reads about p m). W: (d, m) weights in feature space (W E for superposed inputs)."""
  sq = W ** 2
  total, fourth = jnp.sum(sq, axis=1), jnp.sum(sq ** 2, axis=1)
  return jnp.mean(jnp.where(fourth > 0, total ** 2 / jnp.where(fourth > 0, fourth, 1.0), 0.0))


def random_mlp_weights(key: jax.Array, n_in: int, d: int) -> tuple[jax.Array, jax.Array]:
  """W (d, n_in) and b (d,), all entries standard normal."""
  k_w, k_b = jax.random.split(key)
  return jax.random.normal(k_w, (d, n_in)), jax.random.normal(k_b, (d,))


def init_mlp(key: jax.Array, n_in: int, d: int, m: int) -> tuple[jax.Array, ...]:
  """(W1 (d, n_in), b1 (d,), R (P, d)): Xavier-normal W1 and R, b1 = 0. The output layer R
  has no bias, so its rows are readouts in the epsilon-linear sense."""
  k1, k2 = jax.random.split(key)
  init = jax.nn.initializers.glorot_normal()
  return init(k1, (d, n_in)), jnp.zeros((d,)), init(k2, (pair_count(m), d))


def balanced_loss(params: tuple[jax.Array, ...], x: jax.Array, f: jax.Array,
                  pos_weight: float) -> jax.Array:
  """Squared error of every pairwise AND, true ANDs weighted by pos_weight.

  Args:
    x: (n, n_in) layer inputs. f: (n, m) the boolean features behind them.
  """
  W1, b1, R = params
  pred = layer(W1, b1, x) @ R.T
  target = pair_targets(f)
  weight = 1.0 + (pos_weight - 1.0) * target
  return jnp.mean(jnp.sum(weight * (pred - target) ** 2, axis=1)) / target.shape[1]


@functools.partial(jax.jit, static_argnames=("m", "s", "d", "mode", "steps", "batch"))
def train_mlp(key: jax.Array, E: jax.Array | None, *, m: int, s: int, d: int, mode: str,
              steps: int, batch: int, lr: float) -> tuple[jax.Array, ...]:
  """Trains W1, b1, R on fresh inputs every step (Adam, cosine decay).

  Args:
    E: (d0, m) embedding for superposed inputs, or None for basis inputs.

  Returns:
    (W1, b1, R).
  """
  k_init, k_data = jax.random.split(key)
  n_in = m if E is None else E.shape[0]
  params = init_mlp(k_init, n_in, d, m)
  # Both classes of every AND weigh the same: a true AND is rare (C(s,2) of P outputs).
  pos_weight = (pair_count(m) - 1.0) / max(s * (s - 1) / 2, 1.0)
  opt = optax.adam(optax.cosine_decay_schedule(lr, steps))
  state = opt.init(params)

  def step(carry, t):
    params, state = carry
    f = sample_inputs(jax.random.fold_in(k_data, t), m, s, batch, mode)
    x = f if E is None else f @ E.T
    grads = jax.grad(balanced_loss)(params, x, f, pos_weight)
    updates, state = opt.update(grads, state, params)
    return (optax.apply_updates(params, updates), state), None

  (params, _), _ = jax.lax.scan(step, (params, state), jnp.arange(steps))
  return params

"""The toy grid's training step for all runs at once, with gradients derived by hand.

`train.train_step` is the reference: ONE model, autodiff, readable. This module computes
the same step for a whole chunk of runs (leading axis R) the way the hardware likes it:

- every product is one batched contraction over (runs, batch), written out, instead of a
  per-example vmap that autodiff then transposes into many small ones;
- the backward pass is derived by hand (below), so the attack reuses the model's own
  backward pass, and the clean and attacked rows are weighted blocks of one loss;
- an attacked input x + u W moves the hidden pre-activation by u G, G = W W^T (m x m),
  so the attacked rows start from the clean ones' product and share its encoder
  gradient (`_attack`, `_loss_and_grads`);
- the random numbers of a step (uniforms, the attack's noise) are drawn once per seed and
  shared by the seed's runs, as `train.step_runs` does.

Every model has the shape
    a = x W^T          (batch, m)   the hidden pre-activation
    h = act_h(a)                   identity, or ReLU for hidden_relu and abs
    z = h V + b        (batch, n)   V = W (tied) or W_out^T (abs)
    y = act_o(z)                   identity for linear, else ReLU
and the loss sum_b w_b sum_i I_i (t_bi - y_bi)^2 with row weights w (1/B for a clean
batch; alpha/B and (1 - alpha)/B for the clean and attacked halves of an adversarial one).
Its gradients:
    dz = -2 w_b I_i (t - y) act_o'(z)      db = sum_b dz
    da = (dz V^T) act_h'(a)                dW = da^T x  (+ h^T dz when tied)
    dW_out = dz^T h (abs)                  dx = da W    (the gorton attack's direction)
with ReLU' = [z > 0], as jax.nn.relu's derivative. tests/toy/test_fast.py checks the
step against autodiff through `train_step`, per model, clean and adversarial.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from superjax.toy import attacks, data, train
from superjax.toy.config import SweepConfig
from superjax.toy.models import MODELS, Params

# Attacks the fast path generates inside the training step; a sweep training against
# another attack takes the reference step.
FAST_ATTACKS = ("none", "gorton", "analytic_random")


def supports(cfg: SweepConfig, model: str) -> bool:
  return model in MODELS and cfg.train_attack in FAST_ATTACKS


# Up to this many weights (m x n) the products are unrolled over the model axes (see
# _product). Per step, 2-core CPU, einsum -> unrolled: n=2, m=1 x 2,000 runs 21.6 -> 12.0
# ms; n=5, m=2 x 400 16.1 -> 5.9; n=10, m=3 x 200 14.1 -> 11.1; but n=20, m=5 x 100
# 7.0 -> 16.5.
SMALL_MODEL = 32


def _planes(names: str) -> str:
  """The order of a small model's array axes: the batch last (see _product)."""
  return names.replace("b", "") + "b" if "b" in names else names


def _product(spec: str, a: jax.Array, b: jax.Array, small: bool) -> jax.Array:
  """jnp.einsum(spec, a, b) over axes r (runs), b (batch) and model axes m, n; for a
  small model, unrolled over the model axes into elementwise products of (runs, batch)
  planes and sums over the batch, which XLA fuses where it would call a library dot (or a
  slow reduction) per run. A small model's arrays hold the batch as their LAST axis
  (runs, model axes..., batch), so each plane is contiguous: with the batch before the
  model axes, taking planes apart and stacking them again cost more than the products."""
  if not small:
    return jnp.einsum(spec, a, b)
  inputs, out = spec.split("->")
  left, right = (_planes(names) for names in inputs.split(","))
  sizes = dict(zip(left, a.shape)) | dict(zip(right, b.shape))
  model_axes = lambda names: [c for c in names if c not in "rb"]
  kept, summed = model_axes(out), [c for c in model_axes(left + right) if c not in out]
  summed = list(dict.fromkeys(summed))

  def take(x, names, index):  # x at the model-axis `index`, as (runs, batch or 1)
    x = x[tuple(index[c] if c in index else slice(None) for c in names)]
    return x if "b" in names else x[:, None]

  def element(index):
    total = sum(take(a, left, index | rest) * take(b, right, index | rest)
                for rest in _assignments(summed, sizes))
    return total if "b" in out else jnp.sum(total, axis=1)

  values = [element(index) for index in _assignments(kept, sizes)]
  shape = [sizes[c] for c in kept]
  stacked = jnp.stack(values, axis=1)  # (runs, prod(model sizes)[, batch])
  return stacked.reshape(stacked.shape[:1] + tuple(shape) + stacked.shape[2:])


def _assignments(letters: list[str], sizes: dict[str, int]) -> list[dict[str, int]]:
  """Every assignment of an index to each letter, in row-major order."""
  out = [{}]
  for c in letters:
    out = [index | {c: i} for index in out for i in range(sizes[c])]
  return out


def _is_small(params: Params) -> bool:
  return params["W"].shape[-2] * params["W"].shape[-1] <= SMALL_MODEL


def _relu_mask(v: jax.Array) -> jax.Array:
  return (v > 0).astype(v.dtype)


def _per_run(v: jax.Array, small: bool) -> jax.Array:
  """A per-run vector (R, k) shaped to meet (R, rows, k) arrays (or a small model's
  (R, k, rows))."""
  return v[:, :, None] if small else v[:, None, :]


def _per_row(v: jax.Array, small: bool) -> jax.Array:
  """A per-row value (R, rows) shaped to meet (R, rows, k) arrays (or (R, k, rows))."""
  return v[:, None, :] if small else v[..., None]


def _feature_axis(small: bool) -> int:
  return 1 if small else -1


def _hidden(params: Params, x: jax.Array) -> jax.Array:
  """The hidden pre-activation a = x W^T of inputs x (R, rows, n)."""
  return _product("rbn,rmn->rbm", x, params["W"], _is_small(params))


def _from_hidden(model: str, params: Params, a: jax.Array):
  """(h, z, y) from the hidden pre-activation a (R, rows, m)."""
  small = _is_small(params)
  h = jax.nn.relu(a) if MODELS[model].privileged else a
  if model == "abs":
    z = _product("rbm,rnm->rbn", h, params["W_out"], small)
  else:
    z = _product("rbm,rmn->rbn", h, params["W"], small)
  z = z + _per_run(params["b"], small)
  y = z if model == "linear" else jax.nn.relu(z)
  return h, z, y


def _backward_to_hidden(model: str, params: Params, a: jax.Array, z: jax.Array,
                        dy: jax.Array):
  """(dz, da) from the output gradient dy."""
  small = _is_small(params)
  dz = dy if model == "linear" else dy * _relu_mask(z)
  if model == "abs":
    dh = _product("rbn,rnm->rbm", dz, params["W_out"], small)
  else:
    dh = _product("rbn,rmn->rbm", dz, params["W"], small)
  da = dh * _relu_mask(a) if MODELS[model].privileged else dh
  return dz, da


def _loss_and_grads(model: str, params: Params, x: jax.Array, t: jax.Array, blocks,
                    importance: jax.Array):
  """Per-run loss sum_b w sum_i I_i (t - y)^2 over blocks of rows, and its gradients.

  Every block's rows are the inputs x (R, rows, n) moved by U W, treated as data:
  blocks are (a, U, w) triples, a = (x + U W) W^T the rows' hidden pre-activation, U
  (R, rows, m) or None for x itself, w (R,) the weight of each of the block's rows; t
  (R, rows, n) the targets, importance (R, n). The encoder's gradient, the sum over
  blocks of da^T (x + U W), is one product over x for all blocks plus (da^T U) W, an
  m x m piece, per moved block; the decoder's gradient is one product per block (on
  XLA:CPU a weight-gradient product over concatenated rows runs 2-3x slower than one
  product per block). A small model's arrays hold the rows last (see _product)."""
  small = _is_small(params)
  loss, grads, da_total, moved = 0.0, None, 0.0, 0.0
  for a, U, w in blocks:
    h, z, y = _from_hidden(model, params, a)
    e = t - y
    # The block's weights per feature, w_r I_ri, as (R, 1, n), broadcast inside the
    # fusions that read it (a weight of shape (R, rows, n) is loop-invariant, and XLA
    # hoists it out of the step's loop as a buffer every pass then reads).
    scale = _per_run(w[:, None] * importance, small)
    dy = -2.0 * scale * e
    if small:  # one reduction over (batch, n): summing n first is slow for n = 2
      loss = loss + jnp.sum(scale * e * e, axis=(1, 2))
    else:
      # e^2 summed over the batch, then a product with the weights: XLA:CPU's library
      # reduction over (batch, n) at once took 5x as long (2.4 of a 14.7 ms step on (a)).
      loss = loss + jnp.einsum("rbn,rn->r", e * e, w[:, None] * importance)
    dz, da = _backward_to_hidden(model, params, a, z, dy)
    da_total = da_total + da
    if U is not None:
      moved = moved + _product("rmk,rkn->rmn", _product("rbm,rbk->rmk", da, U, small),
                               params["W"], small)
    # The decoder's product takes h with a column of ones appended, so the bias gradient
    # sum_b dz comes out of it as one more row instead of another pass over dz.
    axis = _feature_axis(small)
    ones = jnp.ones_like(jax.lax.slice_in_dim(h, 0, 1, axis=axis))
    h1 = jnp.concatenate([h, ones], axis=axis)
    if model == "abs":
      decoder = _product("rbn,rbm->rnm", dz, h1, small)
      block = {"W_out": decoder[..., :-1], "b": decoder[..., -1]}
    else:
      decoder = _product("rbm,rbn->rmn", h1, dz, small)
      block = {"W": decoder[:, :-1], "b": decoder[:, -1]}  # tied: W's decoder use
    grads = block if grads is None else jax.tree.map(jnp.add, grads, block)
  encoder = _product("rbm,rbn->rmn", da_total, x, small) + moved
  grads["W"] = grads["W"] + encoder if "W" in grads else encoder
  return loss, grads


def _per_input(cfg: SweepConfig, key: jax.Array, draw) -> jax.Array:
  """`draw(k)` for the per-input keys k that `attacks.attack_batch` splits from the
  attack key of the step whose key is `key`: (batch, ...)."""
  return jax.vmap(draw)(jax.random.split(train.attack_key(key), cfg.batch))


def _attack(cfg: SweepConfig, model: str, params: Params, hps: train.HParams, a: jax.Array,
            t: jax.Array, importance: jax.Array, eps: jax.Array, step_keys: jax.Array,
            step: jax.Array) -> tuple[jax.Array, jax.Array]:
  """The training attack of inputs x with hidden pre-activation a = x W^T (R, batch, m)
  and budgets eps (R, batch, 1), as `attacks.attack_batch` makes it for each run, in
  the hidden space: (U, a_adv) with delta = U W and a_adv = (x + delta) W^T.

  Both attacks move each input along a combination u W of W's rows: gorton along the
  input gradient at the noisy input, da W; analytic_random along (W^T W)_i = W_i W for
  its feature i. With the Gram matrix G = W W^T (m x m), ||u W||^2 = u G u^T and
  (u W) W^T = u G, so neither the perturbation nor the attacked input's forward product
  is formed: the attack costs the noisy forward and backward (gorton) and m x m work."""
  W, small = params["W"], _is_small(params)
  if cfg.train_attack == "gorton":
    draw = lambda k: _per_input(cfg, k, lambda ki: jax.random.normal(ki, (cfg.n,)))
    if small:
      draw = lambda k, one=draw: one(k).T  # (n, batch): a small model's layout
    if cfg.seeds == 1 and train.draws_once_per_seed(cfg, a.shape[0]) and not small:
      # Every run reads the one seed's noise: one product of it with every run's W,
      # rather than a copy of it per run (into which XLA fuses the normal's inverse
      # error function, computed again for each run).
      noise = draw(train.seed_step_key(cfg, jnp.int32(0), step))
      hidden = jnp.einsum("bn,rmn->rbm", noise, W)
    else:
      hidden = _hidden(params, train.per_seed(cfg, hps, step_keys, step, draw))
    noisy = a + attacks.NOISE_SCALE * eps * hidden
    _, z, y = _from_hidden(model, params, noisy)
    _, u = _backward_to_hidden(model, params, noisy, z,
                               -2.0 * _per_run(importance, small) * (t - y))
  else:  # analytic_random: column i of W for each input's random feature i
    feature = train.per_seed(cfg, hps, step_keys, step, lambda k: _per_input(
        cfg, k, lambda ki: attacks.random_feature(ki, cfg.n)))
    if small:
      u = jnp.take_along_axis(W, feature[:, None, :], axis=2)
    else:
      u = jnp.take_along_axis(jnp.swapaxes(W, 1, 2), feature[..., None], axis=1)
  shift = _product("rbm,rmk->rbk", u, _product("rmn,rkn->rmk", W, W, small), small)
  norm = jnp.sqrt(jnp.maximum(
      jnp.sum(shift * u, axis=_feature_axis(small), keepdims=True), 0.0))
  scale = eps / jnp.where(norm > 0, norm, 1.0)
  return scale * u, a + scale * shift


def loss_and_grads(cfg: SweepConfig, model: str, params: Params, hps: train.HParams, x: jax.Array,
                   step_keys: jax.Array, step: jax.Array, grads: bool = True):
  """Per-run training loss (clean, or alpha-weighted clean + attacked) and, with
  `grads`, its gradients, for inputs x (R, batch, n) drawn for `step` (whose keys per run
  are `step_keys`)."""
  importance = jax.vmap(lambda hp: train.feature_importance(cfg.n, hp))(hps)
  runs, batch = x.shape[:2]
  small = _is_small(params)
  if small:
    x = jnp.swapaxes(x, 1, 2)  # (R, n, batch): see _product
  t = jnp.abs(x) if MODELS[model].target == "abs" else x
  clean_weight = jnp.full((runs,), 1.0 / batch)
  a = _hidden(params, x)
  if cfg.train_attack == "none":
    blocks = [(a, None, clean_weight)]
  else:
    # attacks.batch_eps for every run; a large model's row norms as a product with ones
    # (XLA:CPU's library reduction over n is several times slower).
    if small:
      norms = jnp.linalg.norm(x, axis=1)
    else:
      norms = jnp.sqrt(jnp.einsum("rbn,n->rb", x * x, jnp.ones((cfg.n,), x.dtype)))
    if not cfg.per_sample_eps:
      norms = jnp.broadcast_to(jnp.mean(norms, axis=1, keepdims=True), norms.shape)
    eps = _per_row(hps.train_eps[:, None] * norms, small)
    U, attacked = _attack(cfg, model, params, hps, a, t, importance, eps, step_keys, step)
    blocks = [(a, None, hps.alpha * clean_weight),
              (attacked, U, (1.0 - hps.alpha) * clean_weight)]
  loss, g = _loss_and_grads(model, params, x, t, blocks, importance)
  return (loss, g) if grads else loss


def step_runs(cfg: SweepConfig, model: str, states: train.TrainState, hps: train.HParams,
              step_keys: jax.Array, step: jax.Array) -> tuple[train.TrainState, jax.Array]:
  """`train.train_step` for every run of a chunk (leading axis R); equal to it vmapped up
  to float rounding."""
  uniforms = train.per_seed(cfg, hps, step_keys, step, lambda k: train.draw_batch(cfg, k))
  density = jax.vmap(lambda hp: train.feature_density(cfg.n, hp))(hps)
  x = jax.vmap(data.features_from_uniforms, in_axes=(0, 0, None, None, 0))(
      uniforms, density, cfg.signed, cfg.set_size, hps.correlation)
  loss, grads = loss_and_grads(cfg, model, states.params, hps, x, step_keys, step)

  def update(grads, opt_state, params, lr):
    updates, opt_state = train.make_optimizer(cfg, lr).update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state

  params, opt_state = jax.vmap(update)(grads, states.opt_state, states.params, hps.lr)
  new = states.replace(params=params, opt_state=opt_state)
  if new.snapshots is not None:
    new = new.replace(snapshots=jax.vmap(train.record_snapshot, in_axes=(None, 0, 0, None))(
        cfg, new.snapshots, params, step + 1))
  return new, loss

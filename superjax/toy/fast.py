"""The toy grid's training step for all runs at once, with gradients derived by hand.

`train.train_step` is the reference: ONE model, autodiff, readable. This module computes
the same step for a whole chunk of runs (leading axis R) the way the hardware likes it:

- every product is one batched contraction over (runs, batch), written out, instead of a
  per-example vmap that autodiff then transposes into many small ones;
- the backward pass is derived by hand (below), so the attack reuses the model's own
  backward pass, and the clean and attacked rows are weighted blocks of one loss;
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
    dW_out = dz^T h (abs)                  dx = da W    (the attack's input gradient)
with ReLU' = [z > 0], as jax.nn.relu's derivative. tests/toy/test_fast.py checks the
step against autodiff through `train_step`, per model, clean and adversarial.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from superjax.toy import attacks, data, train
from superjax.toy.config import SweepConfig
from superjax.toy.grid import HParams
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


def _product(spec: str, a: jax.Array, b: jax.Array, small: bool) -> jax.Array:
  """jnp.einsum(spec, a, b) over axes r (runs), b (batch) and model axes m, n; for a
  small model, unrolled over the model axes into elementwise products of (runs, batch)
  slices and row sums over the batch, which XLA fuses where it would call a library
  dot (or a slow reduction) per run."""
  if not small:
    return jnp.einsum(spec, a, b)
  inputs, out = spec.split("->")
  left, right = inputs.split(",")
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
  stacked = jnp.stack(values, axis=-1)  # (runs, [batch,] prod(model sizes))
  return stacked.reshape(stacked.shape[:-1] + tuple(shape))


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


def _forward(model: str, params: Params, x: jax.Array):
  """(a, h, z, y) for inputs x (R, rows, n); params have a leading run axis."""
  W, small = params["W"], _is_small(params)
  a = _product("rbn,rmn->rbm", x, W, small)
  h = jax.nn.relu(a) if MODELS[model].privileged else a
  if model == "abs":
    z = _product("rbm,rnm->rbn", h, params["W_out"], small)
  else:
    z = _product("rbm,rmn->rbn", h, W, small)
  z = z + params["b"][:, None, :]
  y = z if model == "linear" else jax.nn.relu(z)
  return a, h, z, y


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


def _loss_and_grads(model: str, params: Params, blocks, importance: jax.Array):
  """Per-run loss sum_b w_b sum_i I_i (t - y)^2 over blocks of rows, and its gradients.

  blocks: (x, t, w) triples, x and t (R, rows, n), w (R, rows) row weights; importance
  (R, n). Each block is its own products: on XLA:CPU a weight-gradient product over the
  concatenated rows runs 2-3x slower than the sum of one product per block."""
  loss, grads, small = 0.0, {}, _is_small(params)
  for x, t, w in blocks:
    a, h, z, y = _forward(model, params, x)
    e = t - y
    # One reduction over (batch, n): summing n first is a slow inner reduction for n = 2.
    loss = loss + jnp.sum(w[..., None] * importance[:, None, :] * e * e, axis=(1, 2))
    dz, da = _backward_to_hidden(model, params, a, z,
                                 -2.0 * w[..., None] * importance[:, None, :] * e)
    # The decoder's product takes h with a column of ones appended, so the bias gradient
    # sum_b dz comes out of it as one more row instead of another pass over dz.
    h1 = jnp.concatenate([h, jnp.ones_like(h[..., :1])], axis=-1)
    block = {"W": _product("rbm,rbn->rmn", da, x, small)}
    if model == "abs":
      decoder = _product("rbn,rbm->rnm", dz, h1, small)
      block.update(W_out=decoder[..., :-1], b=decoder[..., -1])
    else:
      decoder = _product("rbm,rbn->rmn", h1, dz, small)
      block.update(W=block["W"] + decoder[:, :-1], b=decoder[:, -1])  # tied: W's both uses
    grads = jax.tree.map(jnp.add, grads, block) if grads else block
  return loss, grads


def _input_grads(model: str, params: Params, x: jax.Array, t: jax.Array,
                 importance: jax.Array) -> jax.Array:
  """d/dx of each row's own loss sum_i I_i (t - y(x))^2: (R, rows, n)."""
  a, _, z, y = _forward(model, params, x)
  _, da = _backward_to_hidden(model, params, a, z, -2.0 * importance[:, None, :] * (t - y))
  return _product("rbm,rmn->rbn", da, params["W"], _is_small(params))


def _unit_rows(v: jax.Array) -> jax.Array:
  norm = jnp.linalg.norm(v, axis=-1, keepdims=True)
  return v / jnp.where(norm > 0, norm, 1.0)


def _per_input(cfg: SweepConfig, key: jax.Array, draw) -> jax.Array:
  """`draw(k)` for the per-input keys k that `attacks.attack_batch` splits from the
  attack key of the step whose key is `key`: (batch, ...)."""
  return jax.vmap(draw)(jax.random.split(train.attack_key(key), cfg.batch))


def _attack(cfg: SweepConfig, model: str, params: Params, hps: HParams, x: jax.Array,
            t: jax.Array, importance: jax.Array, eps: jax.Array, step_keys: jax.Array,
            step: jax.Array) -> jax.Array:
  """The training attack's delta for inputs x (R, batch, n) with budgets eps (R, batch, 1),
  as `attacks.attack_batch` makes it for each run."""
  if cfg.train_attack == "gorton":
    noise = train.per_seed(cfg, hps, step_keys, step, lambda k: _per_input(
        cfg, k, lambda ki: jax.random.normal(ki, (cfg.n,))))
    grad = _input_grads(model, params, x + attacks.NOISE_SCALE * eps * noise, t, importance)
    return eps * _unit_rows(grad)
  # analytic_random: row i of W^T W (symmetric) for each input's random feature i.
  feature = train.per_seed(cfg, hps, step_keys, step, lambda k: _per_input(
      cfg, k, lambda ki: attacks.random_feature(ki, cfg.n)))
  gram = jnp.einsum("rmi,rmj->rij", params["W"], params["W"])
  return eps * _unit_rows(jnp.take_along_axis(gram, feature[..., None], axis=1))


def loss_and_grads(cfg: SweepConfig, model: str, params: Params, hps: HParams, x: jax.Array,
                   step_keys: jax.Array, step: jax.Array, grads: bool = True):
  """Per-run training loss (clean, or alpha-weighted clean + attacked) and, with
  `grads`, its gradients, for inputs x (R, batch, n) drawn for `step` (whose keys per run
  are `step_keys`)."""
  importance = jax.vmap(lambda hp: train.feature_importance(cfg.n, hp))(hps)
  t = jnp.abs(x) if MODELS[model].target == "abs" else x
  runs, batch = x.shape[:2]
  clean_weights = jnp.full((runs, batch), 1.0 / batch)
  if cfg.train_attack == "none":
    blocks = [(x, t, clean_weights)]
  else:
    eps = jax.vmap(attacks.batch_eps, in_axes=(0, 0, None))(
        x, hps.train_eps, cfg.per_sample_eps)[..., None]
    delta = _attack(cfg, model, params, hps, x, t, importance, eps, step_keys, step)
    alpha = hps.alpha[:, None]
    blocks = [(x, t, alpha * clean_weights), (x + delta, t, (1.0 - alpha) * clean_weights)]
  loss, g = _loss_and_grads(model, params, blocks, importance)
  return (loss, g) if grads else loss


def step_runs(cfg: SweepConfig, model: str, states: train.TrainState, hps: HParams,
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

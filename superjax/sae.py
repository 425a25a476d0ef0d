"""Sparse autoencoders on model activations: ReLU + L1 and TopK + AuxK, many trained at once.

Two kinds, both on standardised activations x = (a - mean) / scale, where mean and scale
are fitted on each source's (model's or layer's) training activations and stored with
the SAE, so activations of different models are on one footing (Gorton & Lewis 2025,
App. A). Latent i has an encoder row W_enc[i] and a decoder row (dictionary vector) W_dec[i].

* "relu" (Anthropic, April 2024 update): f = ReLU(W_enc x + b_enc), x_hat = W_dec^T f +
  b_dec, loss = mean_batch(||x - x_hat||^2 + lambda sum_i f_i ||W_dec[i]||). Decoder rows
  start at norm `init_norm` with W_enc = W_dec, and are unconstrained; lambda ramps up from
  0 over the first `l1_warmup` of training.
* "topk" (Gao et al. 2024): z = the k largest entries of ReLU(W_enc (x - b_dec) + b_enc),
  x_hat = W_dec^T z + b_dec; decoder rows have unit norm (the gradient's component along
  each row is removed before the step and rows are renormalised after it); b_dec starts at
  the geometric median of a batch. Loss = nmse(x_hat, x) + aux_coef nmse(e_hat, e) where
  nmse is the squared error over the batch's squared deviation from its mean, e = x - x_hat
  (no gradient) and e_hat = W_dec^T z_aux is decoded from the top-k_aux pre-activations of
  the dead latents, those that have not fired for `dead_tokens` training inputs.

k is a traced per-run value: `lax.top_k` takes the k_max largest pre-activations (one
shape for every run) and ranks >= k are zeroed, so runs with different k share a program.

Both kinds train with Adam, gradient clipping and a linear learning-rate decay to 0 over
the final `lr_decay` of training. Batches are drawn with replacement from an activation
matrix by index, the batch of step t from `fold_in(data_key, t)`.

Training is written for ONE SAE (`init_state`, `train_step`, `train_segment`, `train`) and
`train_saes` vmaps it over a flat run axis of `SAEHParams` (k, l1, lr, source, seed):
SAEs for several sparsities, learning rates, seeds and equal-width sources train as one
jitted program. Each run reads its source's rows of a shared (sources, tokens, d) matrix,
so the activations are never copied per run.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools

import flax.struct
import jax
import jax.numpy as jnp
import numpy as np
import optax

from superjax.core.config import ConfigError

KINDS = ("relu", "topk")
_INIT, _DATA = 0, 1
# Weiszfeld iterations for the geometric median that initialises b_dec of TopK SAEs.
_MEDIAN_ITERS = 20

Params = dict[str, jax.Array]


@dataclasses.dataclass(frozen=True)
class SAEConfig:
  """Static settings shared by every SAE of one program (shapes, schedule, recipe).

  Attributes:
    kind: "relu" (L1 penalty) or "topk" (TopK with AuxK).
    d_in: activation width d.
    expansion: latents per input dimension; n_latents = expansion * d_in.
    k_max: the largest k of any run (TopK); the static size of `lax.top_k`.
    k_aux: dead latents used by AuxK, capped at n_latents.
    aux_coef: weight of the AuxK loss.
    dead_tokens: a latent is dead after this many training inputs without firing.
    batch: training inputs per step.
    steps: optimiser steps.
    l1_warmup: fraction of steps over which the L1 coefficient ramps up from 0 (ReLU).
    lr_decay: final fraction of steps over which the learning rate decays to 0.
    grad_clip: global gradient-norm clip.
    init_norm: decoder row norm at initialisation (ReLU; TopK rows have unit norm).
    per_dimension: standardise each dimension by its own standard deviation; False
      divides by one scale per source, the root mean variance over dimensions.
  """

  kind: str = "topk"
  d_in: int = 64
  expansion: int = 8
  k_max: int = 64
  k_aux: int = 512
  aux_coef: float = 1.0
  dead_tokens: int = 10_000_000
  batch: int = 4096
  steps: int = 10_000
  l1_warmup: float = 0.05
  lr_decay: float = 0.2
  grad_clip: float = 1.0
  init_norm: float = 0.1
  per_dimension: bool = True

  def __post_init__(self):
    if self.kind not in KINDS:
      raise ConfigError(f"kind must be one of {KINDS}, got {self.kind!r}")
    for name in ("d_in", "expansion", "k_max", "k_aux", "dead_tokens", "batch", "steps"):
      if int(getattr(self, name)) < 1:
        raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
    if self.kind == "topk" and self.k_max > self.n_latents:
      raise ConfigError(f"k_max must be <= n_latents = {self.n_latents}, got {self.k_max}")
    for name in ("l1_warmup", "lr_decay"):
      if not 0.0 <= getattr(self, name) <= 1.0:
        raise ConfigError(f"{name} must be in [0, 1], got {getattr(self, name)!r}")
    for name in ("grad_clip", "init_norm"):
      if not getattr(self, name) > 0:
        raise ConfigError(f"{name} must be > 0, got {getattr(self, name)!r}")
    if not self.aux_coef >= 0:
      raise ConfigError(f"aux_coef must be >= 0, got {self.aux_coef!r}")

  @property
  def n_latents(self) -> int:
    return self.d_in * self.expansion

  @property
  def k_aux_used(self) -> int:
    return min(self.k_aux, self.n_latents)


@flax.struct.dataclass
class SAEHParams:
  """Per-run hyperparameters, traced (scalars for one run, shape (runs,) for many)."""

  k: jax.Array  # int32 active latents per input (TopK; ignored by ReLU)
  l1: jax.Array  # float32 L1 coefficient lambda (ReLU; ignored by TopK)
  lr: jax.Array  # float32 peak learning rate
  source: jax.Array  # int32 index of the run's activation matrix (model or layer)
  seed: jax.Array  # int32


def hparams(cfg: SAEConfig, k=None, l1=(5.0,), lr=(5e-4,), source=(0,),
            seed=(0,)) -> tuple[SAEHParams, tuple[int, ...]]:
  """The Cartesian product of the given values as a flat run axis (k defaults to k_max).

  The default l1 is the April 2024 update's lambda = 5, set for inputs scaled so that
  E||x||^2 is about d, as per-dimension standardisation makes it.

  Returns:
    The hyperparameters, each of shape (runs,), ordered as
    itertools.product(source, k, l1, lr, seed), and the grid shape
    (len(source), len(k), len(l1), len(lr), len(seed)) to reshape per-run results.
  """
  k = (cfg.k_max,) if k is None else k
  for value in k:
    if not 1 <= int(value) <= cfg.k_max:
      raise ConfigError(f"k must be in [1, k_max = {cfg.k_max}], got {value!r}")
  for name, values in (("l1", l1), ("lr", lr)):
    if any(not float(v) >= 0 for v in values):
      raise ConfigError(f"{name} must be >= 0, got {values!r}")
  rows = list(itertools.product(source, k, l1, lr, seed))
  column = lambda i, dtype: np.asarray([r[i] for r in rows], dtype)
  hp = SAEHParams(source=column(0, np.int32), k=column(1, np.int32), l1=column(2, np.float32),
                  lr=column(3, np.float32), seed=column(4, np.int32))
  return hp, (len(source), len(k), len(l1), len(lr), len(seed))


@flax.struct.dataclass
class SAE:
  """One trained SAE with its standardisation (a leading run axis when stacked)."""

  params: Params  # W_enc (L, d), b_enc (L,), W_dec (L, d), b_dec (d,)
  mean: jax.Array  # (d,) subtracted from raw activations
  scale: jax.Array  # (d,) divides them after
  k: jax.Array  # () int32 active latents (TopK)
  kind: str = flax.struct.field(pytree_node=False, default="topk")
  k_max: int = flax.struct.field(pytree_node=False, default=1)


def fit_standardizer(acts: jax.Array, per_dimension: bool = True) -> tuple[jax.Array, jax.Array]:
  """Mean and scale of one source's training activations.

  Args:
    acts: (tokens, d) raw activations.
    per_dimension: scale is each dimension's standard deviation; otherwise the root of the
      mean variance over dimensions, repeated d times.

  Returns:
    mean (d,) and scale (d,); a constant dimension gets scale 1.
  """
  mean = jnp.mean(acts, axis=0)
  var = jnp.mean((acts - mean[None, :]) ** 2, axis=0)
  if not per_dimension:
    var = jnp.full_like(var, jnp.mean(var))
  return mean, jnp.where(var > 0, jnp.sqrt(var), 1.0)


def _last(v: jax.Array, x: jax.Array) -> jax.Array:
  """A (d,) vector shaped (1, ..., 1, d) to broadcast against x (..., d)."""
  return v.reshape((1,) * (x.ndim - 1) + v.shape)


def standardize(sae: SAE, acts: jax.Array) -> jax.Array:
  """(..., d) raw activations -> (..., d) the SAE's standardised inputs."""
  return (acts - _last(sae.mean, acts)) / _last(sae.scale, acts)


def _top_k_latents(pre: jax.Array, k: jax.Array, k_max: int) -> jax.Array:
  """(..., L) pre-activations -> (..., L) with only the k largest kept (then ReLU'd).

  `k` may be traced: the k_max largest are found and ranks >= k are zeroed.
  """
  values, index = jax.lax.top_k(pre, k_max)
  flat_index = index.reshape(-1, k_max)
  flat_values = jax.nn.relu(values.reshape(-1, k_max)) * (jnp.arange(k_max) < k)[None, :]
  rows = jnp.arange(flat_values.shape[0])[:, None]
  z = jnp.zeros((flat_values.shape[0], pre.shape[-1]), pre.dtype)
  return z.at[rows, flat_index].set(flat_values).reshape(pre.shape)


def pre_activations(kind: str, params: Params, x: jax.Array) -> jax.Array:
  """(..., d) standardised inputs -> (..., L) encoder pre-activations."""
  if kind == "topk":
    x = x - _last(params["b_dec"], x)
  pre = x @ params["W_enc"].T
  return pre + _last(params["b_enc"], pre)


def latents(kind: str, params: Params, x: jax.Array, k: jax.Array, k_max: int) -> jax.Array:
  """(..., d) standardised inputs -> (..., L) non-negative latent activations."""
  pre = pre_activations(kind, params, x)
  return jax.nn.relu(pre) if kind == "relu" else _top_k_latents(pre, k, k_max)


def encode(sae: SAE, acts: jax.Array) -> jax.Array:
  """Latents of raw activations (standardised with the SAE's own mean and scale).

  Args:
    sae: one SAE (no run axis).
    acts: (..., d) raw activations, e.g. (N, d) or (N, H, W, d) feature maps.

  Returns:
    (..., L) latent activations; L0 of input i is `jnp.sum(z[i] > 0)`.
  """
  return latents(sae.kind, sae.params, standardize(sae, acts), sae.k, sae.k_max)


def l0(sae: SAE, acts: jax.Array) -> jax.Array:
  """(..., d) raw activations -> (...,) number of active latents of each input."""
  return jnp.sum(encode(sae, acts) > 0, axis=-1)


def decode(sae: SAE, z: jax.Array) -> jax.Array:
  """(..., L) latents -> (..., d) reconstruction in the standardised space."""
  x_hat = z @ sae.params["W_dec"]
  return x_hat + _last(sae.params["b_dec"], x_hat)


def nmse(x_hat: jax.Array, x: jax.Array) -> jax.Array:
  """Fraction of variance unexplained: sum (x - x_hat)^2 / sum (x - mean_batch x)^2.

  Args:
    x_hat: (N, d) reconstructions.
    x: (N, d) targets.
  """
  deviation = jnp.sum((x - jnp.mean(x, axis=0, keepdims=True)) ** 2)
  return jnp.sum((x - x_hat) ** 2) / deviation


def relu_loss(params: Params, x: jax.Array, l1: jax.Array) -> tuple[jax.Array, dict]:
  """ReLU SAE loss: mean over the batch of ||x - x_hat||^2 + l1 sum_i f_i ||W_dec[i]||.

  Args:
    params: one SAE's parameters.
    x: (B, d) standardised inputs.
    l1: the L1 coefficient (traced).

  Returns:
    The loss and a dict of the batch's latents z (B, L) and reconstruction x_hat (B, d).
  """
  z = latents("relu", params, x, jnp.int32(0), 1)
  x_hat = z @ params["W_dec"] + params["b_dec"][None, :]
  reconstruction = jnp.mean(jnp.sum((x - x_hat) ** 2, axis=-1))
  # Weighting by decoder norms stops the penalty being dodged by shrinking f and growing W_dec.
  sparsity = jnp.mean(z @ jnp.linalg.norm(params["W_dec"], axis=-1))
  return reconstruction + l1 * sparsity, {"z": z, "x_hat": x_hat}


def auxk_loss(params: Params, x: jax.Array, x_hat: jax.Array, dead: jax.Array,
              k_aux: int) -> jax.Array:
  """AuxK: nmse of the residual e = x - x_hat (no gradient) against its reconstruction
  from the k_aux largest pre-activations of dead latents; 0 when none is dead.

  Args:
    params: one TopK SAE's parameters.
    x: (B, d) standardised inputs.
    x_hat: (B, d) the main reconstruction.
    dead: (L,) bool, the latents that count as dead.
    k_aux: static number of dead latents used per input.
  """
  residual = jax.lax.stop_gradient(x - x_hat)
  pre = jnp.where(dead[None, :], pre_activations("topk", params, x), -jnp.inf)
  if k_aux >= pre.shape[-1]:
    # Every dead latent takes part: no top-k needed (a full sort is slow on CPU).
    z_aux = jax.nn.relu(pre)
  else:
    # Fewer than k_aux dead latents leaves -inf entries, which the ReLU maps to 0.
    z_aux = _top_k_latents(pre, jnp.int32(k_aux), k_aux)
  e_hat = z_aux @ params["W_dec"]
  return jnp.where(jnp.any(dead), nmse(e_hat, residual), 0.0)


def topk_loss(params: Params, x: jax.Array, k: jax.Array, k_max: int, dead: jax.Array,
              k_aux: int, aux_coef: float) -> tuple[jax.Array, dict]:
  """TopK SAE loss: nmse(x_hat, x) + aux_coef auxk_loss.

  Args:
    params: one SAE's parameters.
    x: (B, d) standardised inputs.
    k: active latents (traced), <= k_max.
    k_max: static bound on k.
    dead: (L,) bool, latents that count as dead for AuxK.
    k_aux: static number of dead latents AuxK uses.
    aux_coef: weight of AuxK.

  Returns:
    The loss and a dict of latents z (B, L), x_hat (B, d) and the AuxK term.
  """
  z = latents("topk", params, x, k, k_max)
  x_hat = z @ params["W_dec"] + params["b_dec"][None, :]
  aux = auxk_loss(params, x, x_hat, dead, k_aux)
  return nmse(x_hat, x) + aux_coef * aux, {"z": z, "x_hat": x_hat, "auxk": aux}


def evaluate(sae: SAE, acts: jax.Array, chunk: int = 4096) -> dict[str, jax.Array]:
  """Reconstruction and sparsity of one SAE on a set of inputs, in the standardised space.

  The inputs are read `chunk` at a time, accumulating sums, so the (N, L) latents never
  exist at once: an ImageNet stage gives millions of tokens.

  Args:
    sae: one SAE.
    acts: (N, d) raw activations.
    chunk: inputs per piece (static).

  Returns:
    mse (mean squared error per element), nmse (fraction of variance unexplained),
    explained_variance (1 - nmse), l0 (mean active latents per input), dead (latents
    that never fire on these inputs) and dead_fraction (dead / L).
  """
  n, d = acts.shape
  chunk = min(chunk, n)
  pieces = -(-n // chunk)
  padded = jnp.pad(acts, ((0, pieces * chunk - n), (0, 0))).reshape(pieces, chunk, d)
  valid = (jnp.arange(pieces * chunk) < n).reshape(pieces, chunk)

  def add(totals, piece):
    raw, keep = piece
    x = standardize(sae, raw)
    z = encode(sae, raw)
    w = keep[:, None].astype(x.dtype)
    fired = jnp.any((z > 0) & keep[:, None], axis=0)
    return {"sse": totals["sse"] + jnp.sum(w * (x - decode(sae, z)) ** 2),
            "sum": totals["sum"] + jnp.sum(w * x, axis=0),
            "sum_sq": totals["sum_sq"] + jnp.sum(w * x ** 2, axis=0),
            "active": totals["active"] + jnp.sum(w * (z > 0)),
            "fired": totals["fired"] | fired}, None

  latents = sae.params["W_enc"].shape[0]
  zeros = {"sse": jnp.zeros(()), "sum": jnp.zeros(d), "sum_sq": jnp.zeros(d),
           "active": jnp.zeros(()), "fired": jnp.zeros(latents, bool)}
  t, _ = jax.lax.scan(add, zeros, (padded, valid))
  # sum (x - mean x)^2 = sum x^2 - (sum x)^2 / N, per dimension.
  deviation = jnp.sum(t["sum_sq"] - t["sum"] ** 2 / n)
  fraction_unexplained = t["sse"] / deviation
  dead = jnp.sum(~t["fired"])
  return {"mse": t["sse"] / (n * d), "nmse": fraction_unexplained,
          "explained_variance": 1.0 - fraction_unexplained,
          "l0": t["active"] / n, "dead": dead, "dead_fraction": dead / latents}


@flax.struct.dataclass
class SAEState:
  """One SAE between steps. `key` is raw key data so checkpoints can store it."""

  sae: SAE
  opt_state: optax.OptState
  key: jax.Array
  # (L,) training inputs since each latent last fired, saturating at dead_tokens.
  since_fired: jax.Array
  diverged: jax.Array


def make_optimizer(cfg: SAEConfig, lr: jax.Array) -> optax.GradientTransformation:
  """Adam at `lr` (traced), decaying linearly to 0 over the final lr_decay of the steps,
  after clipping the gradient's global norm."""
  decay_steps = round(cfg.lr_decay * cfg.steps)
  if decay_steps == 0:
    schedule = lambda count: lr
  else:
    schedule = lambda count: lr * jnp.clip((cfg.steps - count) / decay_steps, 0.0, 1.0)
  return optax.chain(optax.clip_by_global_norm(cfg.grad_clip), optax.adam(schedule))


def geometric_median(x: jax.Array, iters: int = _MEDIAN_ITERS) -> jax.Array:
  """(N, d) points -> (d,) their geometric median by Weiszfeld's iteration."""

  def body(_, median):
    weights = 1.0 / jnp.maximum(jnp.linalg.norm(x - median[None, :], axis=-1), 1e-6)
    return weights @ x / jnp.sum(weights)

  return jax.lax.fori_loop(0, iters, body, jnp.mean(x, axis=0))


def _unit_rows(W: jax.Array) -> jax.Array:
  return W / jnp.maximum(jnp.linalg.norm(W, axis=-1, keepdims=True), 1e-12)


def _batch(cfg: SAEConfig, key: jax.Array, sae: SAE, acts: jax.Array,
           source: jax.Array) -> jax.Array:
  """(batch, d) standardised rows of source `source` of acts (sources, tokens, d)."""
  index = jax.random.randint(key, (cfg.batch,), 0, acts.shape[1])
  return standardize(sae, acts[source, index])


def init_state(key: jax.Array, cfg: SAEConfig, hp: SAEHParams, acts: jax.Array,
               mean: jax.Array, scale: jax.Array) -> SAEState:
  """A fresh SAE for one run.

  Args:
    key: base key; the run's key is fold_in(key, hp.seed).
    cfg: static settings.
    hp: this run's hyperparameters (scalars).
    acts: (sources, tokens, d) raw training activations of every source.
    mean: (sources, d) per-source means (`fit_standardizer`).
    scale: (sources, d) per-source scales.
  """
  key = jax.random.fold_in(key, hp.seed)
  L, d = cfg.n_latents, cfg.d_in
  directions = _unit_rows(jax.random.normal(jax.random.fold_in(key, _INIT), (L, d)))
  W_dec = directions if cfg.kind == "topk" else cfg.init_norm * directions
  sae = SAE(params={"W_enc": W_dec, "b_enc": jnp.zeros((L,)), "W_dec": W_dec,
                    "b_dec": jnp.zeros((d,))},
            mean=mean[hp.source], scale=scale[hp.source], k=jnp.asarray(hp.k, jnp.int32),
            kind=cfg.kind, k_max=cfg.k_max)
  if cfg.kind == "topk":
    # The data's geometric median centres the encoder's input (Gao et al. 2024).
    sample = _batch(cfg, jax.random.fold_in(key, _INIT + 2), sae, acts, hp.source)
    sae = sae.replace(params=dict(sae.params, b_dec=geometric_median(sample)))
  return SAEState(sae=sae, opt_state=make_optimizer(cfg, hp.lr).init(sae.params),
                  key=jax.random.key_data(key), since_fired=jnp.zeros((L,), jnp.int32),
                  diverged=jnp.array(False))


def train_step(cfg: SAEConfig, state: SAEState, hp: SAEHParams, acts: jax.Array,
               step: jax.Array) -> tuple[SAEState, dict[str, jax.Array]]:
  """One optimiser step on the batch of step `step` of the run's source.

  A non-finite loss or gradient marks the run diverged and freezes it.

  Returns:
    The new state and the step's loss, nmse and l0 on its batch.
  """
  key = jax.random.fold_in(jax.random.fold_in(jax.random.wrap_key_data(state.key), _DATA), step)
  x = _batch(cfg, key, state.sae, acts, hp.source)
  params = state.sae.params
  if cfg.kind == "relu":
    warmup_steps = max(round(cfg.l1_warmup * cfg.steps), 1)
    l1 = hp.l1 * jnp.minimum(1.0, (step + 1) / warmup_steps)
    (loss, out), grads = jax.value_and_grad(relu_loss, has_aux=True)(params, x, l1)
  else:
    dead = state.since_fired >= cfg.dead_tokens
    (loss, out), grads = jax.value_and_grad(topk_loss, has_aux=True)(
        params, x, state.sae.k, cfg.k_max, dead, cfg.k_aux_used, cfg.aux_coef)
    # Only movement along the unit sphere: the part of each row's gradient along the row
    # would be undone by the renormalisation.
    W_dec, g = params["W_dec"], grads["W_dec"]
    grads = dict(grads, W_dec=g - jnp.sum(g * W_dec, axis=-1, keepdims=True) * W_dec)
  updates, opt_state = make_optimizer(cfg, hp.lr).update(grads, state.opt_state, params)
  new_params = optax.apply_updates(params, updates)
  if cfg.kind == "topk":
    new_params = dict(new_params, W_dec=_unit_rows(new_params["W_dec"]))
  fired = jnp.any(out["z"] > 0, axis=0)
  since_fired = jnp.where(fired, 0, jnp.minimum(state.since_fired + cfg.batch, cfg.dead_tokens))
  finite = jnp.isfinite(loss) & jnp.all(jnp.array(
      [jnp.all(jnp.isfinite(g)) for g in jax.tree.leaves(grads)]))
  keep = finite & ~state.diverged
  new = state.replace(sae=state.sae.replace(params=new_params), opt_state=opt_state,
                      since_fired=since_fired)
  new = jax.tree.map(lambda a, b: jnp.where(keep, a, b), new, state)
  new = new.replace(diverged=state.diverged | ~finite)
  return new, {"loss": loss, "nmse": nmse(out["x_hat"], x),
               "l0": jnp.mean(jnp.sum(out["z"] > 0, axis=-1))}


def train_segment(cfg: SAEConfig, state: SAEState, hp: SAEHParams, acts: jax.Array,
                  start: jax.Array, length: int) -> tuple[SAEState, dict[str, jax.Array]]:
  """Steps [start, start + length) with lax.scan.

  Returns:
    The state and each step's loss, nmse and l0, each of shape (length,).
  """

  def body(state, step):
    return train_step(cfg, state, hp, acts, step)

  return jax.lax.scan(body, state, start + jnp.arange(length))


def train(key: jax.Array, cfg: SAEConfig, hp: SAEHParams, acts: jax.Array, mean: jax.Array,
          scale: jax.Array) -> tuple[SAEState, dict[str, jax.Array]]:
  """Trains one SAE for all cfg.steps steps (arguments as in `init_state`).

  Returns:
    The final state and each step's loss, nmse and l0, each of shape (steps,).
  """
  state = init_state(key, cfg, hp, acts, mean, scale)
  return train_segment(cfg, state, hp, acts, jnp.int32(0), cfg.steps)


@functools.partial(jax.jit, static_argnames=("cfg",))
def standardizers(cfg: SAEConfig, acts: jax.Array) -> tuple[jax.Array, jax.Array]:
  """(sources, tokens, d) activations -> per-source mean and scale, each (sources, d)."""
  return jax.vmap(functools.partial(fit_standardizer, per_dimension=cfg.per_dimension))(acts)


@functools.partial(jax.jit, static_argnames=("cfg",))
def train_saes(key: jax.Array, cfg: SAEConfig, hp: SAEHParams,
               acts: jax.Array) -> tuple[SAEState, dict[str, jax.Array]]:
  """Trains one SAE per run as one jitted, vmapped program.

  Args:
    key: base key; run r's key is fold_in(key, hp.seed[r]), so runs that differ only in
      sparsity or source share their initialisation.
    cfg: static settings.
    hp: (runs,) hyperparameters, e.g. from `hparams`.
    acts: (sources, tokens, d) raw training activations; run r trains on acts[hp.source[r]]
      standardised with that source's own mean and scale.

  Returns:
    The states with a leading run axis (the SAEs are `state.sae`) and per-step metrics
    of shape (runs, steps).
  """
  mean, scale = standardizers(cfg, acts)
  return jax.vmap(train, in_axes=(None, None, 0, None, None, None))(key, cfg, hp, acts, mean,
                                                                   scale)


@jax.jit
def evaluate_runs(saes: SAE, hp: SAEHParams, acts: jax.Array) -> dict[str, jax.Array]:
  """`evaluate` for stacked SAEs, each on its own source.

  Args:
    saes: SAEs with a leading run axis.
    hp: (runs,) their hyperparameters.
    acts: (sources, N, d) raw evaluation activations.

  Returns:
    The metrics of `evaluate`, each of shape (runs,).
  """
  return jax.vmap(lambda sae, source: evaluate(sae, acts[source]))(saes, hp.source)


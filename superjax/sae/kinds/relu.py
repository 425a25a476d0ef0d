"""ReLU SAE with a decoder-norm-weighted L1 penalty (Anthropic, April 2024 update).

f = ReLU(W_enc x + b_enc), x_hat = W_dec^T f + b_dec, loss = mean over the batch of
||x - x_hat||^2 + lambda sum_i f_i ||W_dec[i]||. Decoder rows start at norm `init_norm` with
W_enc = W_dec and are unconstrained; lambda (the run's traced `hp.penalty`) ramps up from
0 over the first `penalty_warmup` of training.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from superjax.sae.dictionary import decode, last_axis
from superjax.sae.kinds import Kind, Params, ramped_penalty


def init(directions: jax.Array, sample: jax.Array, settings) -> Params:
  W_dec = settings.init_norm * directions
  L, d = directions.shape
  return {"W_enc": W_dec, "b_enc": jnp.zeros((L,)), "W_dec": W_dec, "b_dec": jnp.zeros((d,))}


def latents(params: Params, x: jax.Array) -> jax.Array:
  """(..., d) standardised inputs -> (..., L) ReLU(W_enc x + b_enc)."""
  pre = x @ params["W_enc"].T
  return jax.nn.relu(pre + last_axis(params["b_enc"], pre))


def encode(params: Params, buffers: Params, x: jax.Array, k: jax.Array, settings) -> jax.Array:
  return latents(params, x)


def loss_at(params: Params, x: jax.Array, l1: jax.Array) -> tuple[jax.Array, dict]:
  """mean_batch(||x - x_hat||^2 + l1 sum_i f_i ||W_dec[i]||) for x (B, d), and {z, x_hat}."""
  z = latents(params, x)
  x_hat = decode(params, z)
  reconstruction = jnp.mean(jnp.sum((x - x_hat) ** 2, axis=-1))
  # Weighting by decoder norms stops the penalty being dodged by shrinking f and growing W_dec.
  sparsity = jnp.mean(z @ jnp.linalg.norm(params["W_dec"], axis=-1))
  return reconstruction + l1 * sparsity, {"z": z, "x_hat": x_hat}


def loss(params: Params, x: jax.Array, hp, settings, dead: jax.Array,
         step: jax.Array) -> tuple[jax.Array, dict]:
  return loss_at(params, x, ramped_penalty(hp, settings, step))


def saelens(params: Params, buffers: Params, k: jax.Array) -> dict:
  """SAELens's "standard" SAE subtracts b_dec from its input first: that share moves
  into b_enc."""
  return {"architecture": "standard", "b_enc": params["b_enc"] + params["W_enc"] @ params["b_dec"]}


KIND = Kind(name="relu", control="penalty", penalty_field="l1", init=init, encode=encode, loss=loss,
            saelens=saelens)

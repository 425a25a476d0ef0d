"""JumpReLU SAE with an L0 penalty (Rajamanoharan et al. 2024, "Jumping Ahead").

f = z H(z - theta), z = W_enc x + b_enc, with a learned threshold theta_i > 0 per latent
(kept as log theta), x_hat = W_dec^T f + b_dec; loss = mean over the batch of
||x - x_hat||^2 + lambda ||f||_0, lambda the run's traced `hp.penalty` (ramped up over
`penalty_warmup`). Decoder rows have unit norm (as for TopK), so the L0 penalty cannot
be traded against decoder norms.

The step function H has zero derivative almost everywhere, so the thresholds learn
through the paper's straight-through pseudo-derivatives with a rectangle kernel
K(u) = 1[|u| < 1/2] of bandwidth eps (`settings.bandwidth`):

  d/dtheta H(z - theta)        := -(1/eps)     K((z - theta) / eps)
  d/dtheta [z H(z - theta)]    := -(theta/eps) K((z - theta) / eps)

and the usual H(z - theta) for the derivative of f in z; the L0 term sends no gradient to z.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from superjax.sae.dictionary import decode, last_axis, tangent_grads, unit_decoder
from superjax.sae.kinds import Kind, Params, ramped_penalty
from superjax.sae.kinds.topk import geometric_median


def _window(z: jax.Array, threshold: jax.Array, bandwidth: float) -> jax.Array:
  """K((z - theta) / eps) / eps, the rectangle kernel of the pseudo-derivatives."""
  return (jnp.abs(z - last_axis(threshold, z)) < bandwidth / 2).astype(z.dtype) / bandwidth


def _sum_to(g: jax.Array, shape: tuple[int, ...]) -> jax.Array:
  """A broadcast (..., L) cotangent summed back to the threshold's (L,) shape."""
  return jnp.sum(g.reshape(-1, *shape), axis=0)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2,))
def step_fn(z: jax.Array, threshold: jax.Array, bandwidth: float) -> jax.Array:
  """H(z - theta) for z (..., L), theta (L,), with the pseudo-derivative in theta."""
  return (z > last_axis(threshold, z)).astype(z.dtype)


def _step_fwd(z, threshold, bandwidth):
  return step_fn(z, threshold, bandwidth), (z, threshold)


def _step_bwd(bandwidth, residual, g):
  z, threshold = residual
  return jnp.zeros_like(z), _sum_to(-_window(z, threshold, bandwidth) * g, threshold.shape)


step_fn.defvjp(_step_fwd, _step_bwd)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2,))
def jump_relu(z: jax.Array, threshold: jax.Array, bandwidth: float) -> jax.Array:
  """z H(z - theta) for z (..., L), theta (L,), with the pseudo-derivative in theta."""
  return z * step_fn(z, threshold, bandwidth)


def _jump_fwd(z, threshold, bandwidth):
  return jump_relu(z, threshold, bandwidth), (z, threshold)


def _jump_bwd(bandwidth, residual, g):
  z, threshold = residual
  dz = step_fn(z, threshold, bandwidth) * g
  dthreshold = -last_axis(threshold, z) * _window(z, threshold, bandwidth) * g
  return dz, _sum_to(dthreshold, threshold.shape)


jump_relu.defvjp(_jump_fwd, _jump_bwd)


def init(directions: jax.Array, sample: jax.Array, settings) -> Params:
  L = directions.shape[0]
  return {"W_enc": directions, "b_enc": jnp.zeros((L,)), "W_dec": directions,
          "b_dec": geometric_median(sample),
          "log_threshold": jnp.full((L,), jnp.log(settings.threshold_init))}


def pre_activations(params: Params, x: jax.Array) -> jax.Array:
  """(..., d) standardised inputs -> (..., L) z = W_enc x + b_enc."""
  pre = x @ params["W_enc"].T
  return pre + last_axis(params["b_enc"], pre)


def encode(params: Params, buffers: Params, x: jax.Array, k: jax.Array, settings) -> jax.Array:
  z = pre_activations(params, x)
  return z * (z > last_axis(jnp.exp(params["log_threshold"]), z))


def loss_at(params: Params, x: jax.Array, penalty: jax.Array,
            bandwidth: float) -> tuple[jax.Array, dict]:
  """mean_batch(||x - x_hat||^2 + penalty ||f||_0) for x (B, d), and {z, x_hat}."""
  z = pre_activations(params, x)
  threshold = jnp.exp(params["log_threshold"])
  f = jump_relu(z, threshold, bandwidth)
  x_hat = decode(params, f)
  reconstruction = jnp.mean(jnp.sum((x - x_hat) ** 2, axis=-1))
  l0 = jnp.mean(jnp.sum(step_fn(z, threshold, bandwidth), axis=-1))
  return reconstruction + penalty * l0, {"z": f, "x_hat": x_hat}


def loss(params: Params, x: jax.Array, hp, settings, dead: jax.Array,
         step: jax.Array) -> tuple[jax.Array, dict]:
  return loss_at(params, x, ramped_penalty(hp, settings, step), settings.bandwidth)


def saelens(params: Params, buffers: Params, k: jax.Array) -> dict:
  """SAELens's "jumprelu", whose input is centred on b_dec (that share moves into b_enc);
  relu(z) H(z - theta) equals z H(z - theta) for theta > 0."""
  return {"architecture": "jumprelu", "b_enc": params["b_enc"] + params["W_enc"] @ params["b_dec"],
          "threshold": jnp.exp(params["log_threshold"])}


KIND = Kind(name="jumprelu", control="penalty", penalty_field="l0", init=init, encode=encode, loss=loss,
            project_grads=tangent_grads, after_step=unit_decoder, saelens=saelens)

"""TopK SAE with the AuxK loss for dead latents (Gao et al. 2024).

z = the k largest entries of ReLU(W_enc (x - b_dec) + b_enc), x_hat = W_dec^T z + b_dec.
Decoder rows have unit norm: the gradient's component along each row is removed before
the step and rows are renormalised after it; W_enc starts as W_dec and b_dec at the
geometric median of a batch. Loss = nmse(x_hat, x) + aux_coef nmse(e_hat, e), where
e = x - x_hat (no gradient) and e_hat is decoded from the top-k_aux pre-activations of the
dead latents, those that have not fired for `dead_tokens` training inputs.

k is the run's traced `hp.k`: `lax.top_k` takes the k_max largest pre-activations (one
shape for every run) and ranks >= k are zeroed, so runs with different k share a program.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from superjax.sae.dictionary import decode, last_axis, nmse, tangent_grads, unit_decoder
from superjax.sae.kinds import Kind, Params
from superjax.sae.selection import top_k_rows

# Largest k_max still selected with lax.top_k; larger ones count instead (see top_k_latents).
SORT_LIMIT = 16
# Weiszfeld iterations for the geometric median that initialises b_dec.
MEDIAN_ITERS = 20


def geometric_median(x: jax.Array, iters: int = MEDIAN_ITERS) -> jax.Array:
  """(N, d) points -> (d,) their geometric median by Weiszfeld's iteration."""

  def body(_, median):
    weights = 1.0 / jnp.maximum(jnp.linalg.norm(x - median[None, :], axis=-1), 1e-6)
    return weights @ x / jnp.sum(weights)

  return jax.lax.fori_loop(0, iters, body, jnp.mean(x, axis=0))


def init(directions: jax.Array, sample: jax.Array, settings) -> Params:
  L = directions.shape[0]
  return {"W_enc": directions, "b_enc": jnp.zeros((L,)), "W_dec": directions,
          "b_dec": geometric_median(sample)}


def top_k_latents(pre: jax.Array, k: jax.Array, k_max: int) -> jax.Array:
  """(..., L) pre-activations -> (..., L) with only the k largest kept (then ReLU'd).

  `k` may be traced: for small k_max the k_max largest are found by `lax.top_k` and ranks
  >= k are zeroed; beyond SORT_LIMIT each row's k-th largest is found by counting
  (superjax.sae.selection), which is faster on CPU.
  """
  if k_max > SORT_LIMIT:
    return top_k_rows(jax.nn.relu(pre), k)
  values, index = jax.lax.top_k(pre, k_max)
  flat_index = index.reshape(-1, k_max)
  flat_values = jax.nn.relu(values.reshape(-1, k_max)) * (jnp.arange(k_max) < k)[None, :]
  rows = jnp.arange(flat_values.shape[0])[:, None]
  z = jnp.zeros((flat_values.shape[0], pre.shape[-1]), pre.dtype)
  return z.at[rows, flat_index].set(flat_values).reshape(pre.shape)


def pre_activations(params: Params, x: jax.Array) -> jax.Array:
  """(..., d) standardised inputs -> (..., L) W_enc (x - b_dec) + b_enc."""
  pre = (x - last_axis(params["b_dec"], x)) @ params["W_enc"].T
  return pre + last_axis(params["b_enc"], pre)


def encode(params: Params, buffers: Params, x: jax.Array, k: jax.Array, settings) -> jax.Array:
  return top_k_latents(pre_activations(params, x), k, settings.k_max)


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
  pre = jnp.where(dead[None, :], pre_activations(params, x), -jnp.inf)
  if k_aux >= pre.shape[-1]:
    # Every dead latent takes part: no top-k needed (a full sort is slow on CPU).
    z_aux = jax.nn.relu(pre)
  else:
    # Fewer than k_aux dead latents leaves -inf entries, which the ReLU maps to 0.
    z_aux = top_k_latents(pre, jnp.int32(k_aux), k_aux)
  e_hat = z_aux @ params["W_dec"]
  return jnp.where(jnp.any(dead), nmse(e_hat, residual), 0.0)


def loss_at(params: Params, x: jax.Array, k: jax.Array, k_max: int, dead: jax.Array,
            k_aux: int, aux_coef: float) -> tuple[jax.Array, dict]:
  """nmse(x_hat, x) + aux_coef auxk_loss for x (B, d), and {z, x_hat, auxk}."""
  z = top_k_latents(pre_activations(params, x), k, k_max)
  x_hat = decode(params, z)
  aux = auxk_loss(params, x, x_hat, dead, k_aux)
  return nmse(x_hat, x) + aux_coef * aux, {"z": z, "x_hat": x_hat, "auxk": aux}


def loss(params: Params, x: jax.Array, hp, settings, dead: jax.Array,
         step: jax.Array) -> tuple[jax.Array, dict]:
  return loss_at(params, x, hp.k, settings.k_max, dead, settings.k_aux_used, settings.aux_coef)


def saelens(params: Params, buffers: Params, k: jax.Array) -> dict:
  return {"architecture": "topk", "b_enc": params["b_enc"], "k": k}


KIND = Kind(name="topk", control="k", fixed_l0=True, init=init, encode=encode, loss=loss,
            project_grads=tangent_grads, after_step=unit_decoder, saelens=saelens)

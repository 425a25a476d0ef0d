"""BatchTopK SAE (Bussmann, Leask & Nanda 2024): TopK across the batch, not per input.

In training, the k x B largest of the batch's ReLU'd pre-activations ReLU(W_enc (x - b_dec)
+ b_enc) are kept, wherever they fall, so an input's L0 adapts to it and only the batch's
mean is k. At evaluation one global threshold theta replaces the batch: f = z H(z - theta).
theta tracks the smallest kept activation of the training batches (an exponential moving
average with rate `threshold_ema`), stored as params["threshold"]; it gets no gradient.

Everything else is TopK's: unit-norm decoder rows, the AuxK loss on dead latents, W_enc
starting as W_dec and b_dec at the geometric median. k is the run's traced `hp.k`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from superjax.sae.dictionary import decode, nmse, tangent_grads, unit_rows
from superjax.sae.kinds import Kind, Params
from superjax.sae.kinds.topk import auxk_loss, pre_activations
from superjax.sae.kinds.topk import init as topk_init
from superjax.sae.selection import keep_at_least, kth_largest

def batch_top_k(z: jax.Array, k: jax.Array) -> tuple[jax.Array, jax.Array]:
  """(B, L) non-negative activations -> those among the k x B largest of the whole batch
  (others zeroed), and the smallest kept value (0 when fewer than k x B are positive)."""
  threshold = kth_largest(z, k * z.shape[0])
  return keep_at_least(z, threshold), threshold


def init(directions: jax.Array, sample: jax.Array, settings) -> Params:
  return dict(topk_init(directions, sample, settings), threshold=jnp.zeros(()))


def encode(params: Params, x: jax.Array, k: jax.Array, settings) -> jax.Array:
  """Evaluation: the global threshold, so each input's L0 varies around k."""
  z = jax.nn.relu(pre_activations(params, x))
  return jnp.where(z > params["threshold"], z, 0.0)


def loss_at(params: Params, x: jax.Array, k: jax.Array, dead: jax.Array, k_aux: int,
            aux_coef: float) -> tuple[jax.Array, dict]:
  """nmse(x_hat, x) + aux_coef auxk_loss for x (B, d) with the batch's top k x B, and
  {z, x_hat, auxk, threshold}."""
  z, threshold = batch_top_k(jax.nn.relu(pre_activations(params, x)), k)
  x_hat = decode(params, z)
  aux = auxk_loss(params, x, x_hat, dead, k_aux)
  return nmse(x_hat, x) + aux_coef * aux, {"z": z, "x_hat": x_hat, "auxk": aux,
                                           "threshold": threshold}


def loss(params: Params, x: jax.Array, hp, settings, dead: jax.Array,
         step: jax.Array) -> tuple[jax.Array, dict]:
  return loss_at(params, x, hp.k, dead, settings.k_aux_used, settings.aux_coef)


def after_step(params: Params, out: dict, step: jax.Array, settings) -> Params:
  """Unit decoder rows; the threshold moves toward the batch's smallest kept activation
  (set to it on the first step)."""
  old = params["threshold"]
  rate = jnp.where(step == 0, 1.0, settings.threshold_ema)
  threshold = old + rate * (jax.lax.stop_gradient(out["threshold"]) - old)
  return dict(params, W_dec=unit_rows(params["W_dec"]), threshold=threshold)


KIND = Kind(name="batchtopk", control="k", init=init, encode=encode, loss=loss,
            project_grads=tangent_grads, after_step=after_step)

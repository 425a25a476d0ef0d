"""BatchTopK SAE (Bussmann, Leask & Nanda 2024): TopK across the batch, not per input.

In training, the k x B largest of the batch's ReLU'd pre-activations ReLU(W_enc (x - b_dec)
+ b_enc) are kept, wherever they fall, so an input's L0 adapts to it and only the batch's
mean is k. At evaluation one global threshold theta replaces the batch: f = z H(z - theta).

Training and evaluation keep a latent by the same strict rule z > threshold
(selection.keep_above): in training the threshold is the batch's (k x B + 1)-th largest
activation, the largest one dropped, so exactly the k x B largest are kept unless the
k x B-th and (k x B + 1)-th are equal, when every entry tied with them is dropped (fewer
than k x B are kept; ties are all but impossible for continuous activations). theta tracks
that training threshold (an exponential moving average with rate `threshold_ema`), so an
activation equal to theta is dropped at evaluation as it would be in training. The paper
tracks the smallest kept activation instead; for the large batches used the two differ
by one rank. theta is a buffer (buffers["threshold"]): it gets no gradient, and the
optimiser keeps no moments for it.

Everything else is TopK's: unit-norm decoder rows, the AuxK loss on dead latents, W_enc
starting as W_dec and b_dec at the geometric median. k is the run's traced `hp.k`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from superjax.sae.dictionary import decode, nmse, tangent_grads, unit_decoder
from superjax.sae.kinds import Kind, Params
from superjax.sae.kinds.topk import auxk_loss, init, pre_activations
from superjax.sae.selection import keep_above, kth_largest


def batch_top_k(z: jax.Array, k: jax.Array) -> tuple[jax.Array, jax.Array]:
  """(B, L) non-negative activations -> those among the k x B largest of the whole batch
  (others zeroed) and the threshold they pass, the (k x B + 1)-th largest (0 when at most
  k x B are positive, so that every positive one is kept)."""
  threshold = kth_largest(z, k * z.shape[0] + 1)
  return keep_above(z, threshold), threshold


def init_buffers(settings) -> Params:
  return {"threshold": jnp.zeros(())}


def encode(params: Params, buffers: Params, x: jax.Array, k: jax.Array, settings) -> jax.Array:
  """Evaluation: the global threshold, so each input's L0 varies around k."""
  return keep_above(jax.nn.relu(pre_activations(params, x)), buffers["threshold"])


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


def update_buffers(buffers: Params, out: dict, step: jax.Array, settings) -> Params:
  """The threshold moves toward the batch's training threshold (set to it on the first
  step)."""
  old = buffers["threshold"]
  rate = jnp.where(step == 0, 1.0, settings.threshold_ema)
  threshold = old + rate * (jax.lax.stop_gradient(out["threshold"]) - old)
  return dict(buffers, threshold=threshold)


def saelens_as(training_architecture: str):
  """The kind as SAELens saves a trained BatchTopK: a "jumprelu" whose threshold is the
  global one on every latent (relu(z) H(z - theta) is keep_above(relu(z), theta))."""

  def saelens(params: Params, buffers: Params, k: jax.Array) -> dict:
    return {"architecture": "jumprelu", "b_enc": params["b_enc"],
            "threshold": jnp.full(params["b_enc"].shape, buffers["threshold"]),
            "training_architecture": training_architecture}

  return saelens


KIND = Kind(name="batchtopk", control="k", init=init, encode=encode, loss=loss,
            project_grads=tangent_grads, after_step=unit_decoder, init_buffers=init_buffers,
            update_buffers=update_buffers, saelens=saelens_as("batchtopk"))

"""Matryoshka BatchTopK SAE (Bussmann, Nabeshima, Karvonen & Nanda 2025, "Learning
Multi-Level Features with Matryoshka Sparse Autoencoders").

Latents are selected as by BatchTopK (the k x B largest of the batch's ReLU'd
pre-activations, a global threshold at evaluation), and every nested prefix of the
dictionary must reconstruct on its own: with z the selected latents and widths
w_1 < ... < w_n = L,

  loss = sum_j nmse(W_dec[:w_j]^T z[:w_j] + b_dec, x) + aux_coef auxk_loss,

so the first latents learn the broad features that every prefix needs and later ones
refine them (less feature absorption than a flat dictionary). The widths are a fixed
ladder, each twice the one before: L/8, L/4, L/2, L (fewer where L is small; no width
below one latent). Everything else (selection, threshold buffer, unit-norm decoder rows,
AuxK on dead latents, initialisation) is BatchTopK's; at evaluation the kinds are alike.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from superjax.sae.dictionary import nmse, tangent_grads, unit_decoder
from superjax.sae.kinds import Kind, Params, batchtopk
from superjax.sae.kinds.topk import auxk_loss, init, pre_activations

# The ladder of prefix widths, as fractions of the dictionary: each twice the last.
LEVELS = 4


def widths(latents: int) -> tuple[int, ...]:
  """The nested prefix widths of a dictionary of `latents`, increasing, ending at it."""
  return tuple(sorted({max(latents >> level, 1) for level in range(LEVELS)}))


def loss_at(params: Params, x: jax.Array, k: jax.Array, dead: jax.Array, k_aux: int,
            aux_coef: float) -> tuple[jax.Array, dict]:
  """sum over prefixes of nmse + aux_coef auxk_loss for x (B, d) with the batch's top
  k x B, and {z, x_hat (the whole dictionary's), auxk, threshold}."""
  z, threshold = batchtopk.batch_top_k(jax.nn.relu(pre_activations(params, x)), k)
  latents = z.shape[-1]
  x_hat = jnp.broadcast_to(params["b_dec"], x.shape)
  total, start = 0.0, 0
  for width in widths(latents):
    # Each level adds its own latents' part to the reconstruction of the level before.
    x_hat = x_hat + z[:, start:width] @ params["W_dec"][start:width]
    total = total + nmse(x_hat, x)
    start = width
  aux = auxk_loss(params, x, x_hat, dead, k_aux)
  return total + aux_coef * aux, {"z": z, "x_hat": x_hat, "auxk": aux, "threshold": threshold}


def loss(params: Params, x: jax.Array, hp, settings, dead: jax.Array,
         step: jax.Array) -> tuple[jax.Array, dict]:
  return loss_at(params, x, hp.k, dead, settings.k_aux_used, settings.aux_coef)


KIND = Kind(name="matryoshka", control="k", init=init, encode=batchtopk.encode, loss=loss,
            project_grads=tangent_grads, after_step=unit_decoder,
            init_buffers=batchtopk.init_buffers, update_buffers=batchtopk.update_buffers,
            saelens=batchtopk.saelens_as("matryoshka_batchtopk"))

"""Effective features (Bereska et al. 2025): over how many latents an SAE spreads its
activation mass, the count of features a layer simulates.

Latent j's share of the mass is p_j = sum_x |a_j(x)| / sum_x sum_i |a_i(x)| over a set of
inputs x; the effective feature count is F = exp(H(p)) = exp(-sum_j p_j log p_j): L when
the mass is spread evenly over L latents, 1 when one latent carries all of it. A latent
that never fires adds nothing. Runs on saved arrays (numpy), so it is recomputed from
results alone.
"""

from __future__ import annotations

import numpy as np
import xarray as xr


def features(mass, axis: int = -1) -> np.ndarray:
  """exp(entropy) of the activation mass over latents.

  Args:
    mass: per-latent activation mass (any positive multiple of sum_x |a_j(x)|, e.g. the
      mean over inputs); NaN entries (latents an SAE does not have) count as none.
    axis: the latent axis.

  Returns:
    F with `axis` removed; NaN where the mass is all zero or all NaN.
  """
  mass = np.abs(np.nan_to_num(np.asarray(mass, np.float64), nan=0.0))
  total = np.sum(mass, axis=axis, keepdims=True)
  p = np.divide(mass, total, out=np.zeros_like(mass), where=total > 0)
  # 0 log 0 = 0: a silent latent adds no entropy.
  plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
  entropy = -np.sum(plogp, axis=axis)
  return np.where(np.squeeze(total, axis=axis) > 0, np.exp(entropy), np.nan)


def of_results(dataset: xr.Dataset) -> xr.DataArray:
  """Effective features of every SAE of a toy-SAE result (the `latent` axis of its
  `latent_mass` summed out); NaN for an SAE that diverged or a toy model that did."""
  found = xr.apply_ufunc(features, dataset["latent_mass"], input_core_dims=[["latent"]])
  bad = dataset["sae_diverged"] | dataset["toy_diverged"]
  return found.where(~bad)

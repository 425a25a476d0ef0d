"""The zoo-SAE study's report: accuracies, SAE loss per stage and eps, and the preprint's
two trends measured, from saved results."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from superjax.core.experiment import config_of
from superjax.core.stats import spearman


def trends(dataset: xr.Dataset) -> dict[str, Any]:
  """The preprint's two trends, measured: (1) SAE loss falls as eps grows (Spearman of
  sae_nmse against eps, per layer, averaged over kinds and sparsities); (2) adversarial
  inputs activate more latents (ratio l0_adversarial / l0_clean per layer and attack,
  averaged over models, kinds and sparsities), more so in deeper layers."""
  eps = dataset["model_eps"].values
  nmse = dataset["sae_nmse"].mean(("sae_kind", "sparsity"))
  rho = {layer: spearman(eps, nmse.sel(layer=layer).values) for layer in dataset["layer"].values}
  ratio = (dataset["l0_adversarial"] / dataset["l0_clean"]).mean(("sae_kind", "sparsity",
                                                                   "model_eps"))
  return {"nmse_vs_eps_spearman": rho,
          "l0_ratio": {a: ratio.sel(attack=a).values.tolist() for a in dataset["attack"].values}}


def render(dataset: xr.Dataset) -> str:
  cfg = config_of(dataset)
  lines = [f"{cfg.name}: SAEs on {len(cfg.eps)} ResNet18s ({cfg.source}), "
           f"kinds {', '.join(cfg.sae_kinds)}",
           "", f"{'model eps':>10}{'clean acc':>11}" + "".join(
               f"{a + ' acc':>14}" for a in dataset["attack"].values)]
  for eps in dataset["model_eps"].values:
    lines.append(f"{eps:>10.3g}{float(dataset['clean_accuracy'].sel(model_eps=eps)):>11.3f}" + "".join(
        f"{float(dataset['robust_accuracy'].sel(model_eps=eps, attack=a)):>14.3f}"
        for a in dataset["attack"].values))
  lines += ["", "SAE nMSE (mean over sparsities) per layer and model eps:",
            f"{'kind':<6}{'layer':<8}" + "".join(f"{e:>9.3g}" for e in dataset["model_eps"].values)]
  for kind in dataset["sae_kind"].values:
    for layer in dataset["layer"].values:
      row = dataset["sae_nmse"].sel(sae_kind=kind, layer=layer).mean("sparsity").values
      lines.append(f"{kind:<6}{layer:<8}" + "".join(f"{v:>9.3f}" for v in row))
  found = trends(dataset)
  lines += ["", "Trend 1 (preprint Fig. 5): SAE loss falls with eps. Spearman(nMSE, eps) per "
            "layer: " + ", ".join(f"{k} {v:+.2f}" for k, v in found["nmse_vs_eps_spearman"].items())]
  falls = [v < 0 for v in found["nmse_vs_eps_spearman"].values()]
  lines.append(f"  appears in {sum(falls)} of {len(falls)} layers")
  lines.append("Trend 2 (preprint Fig. 6): L0 adversarial / clean per layer:")
  for attack, ratios in found["l0_ratio"].items():
    lines.append(f"  {attack:<9}" + "  ".join(f"{layer} {r:.2f}" for layer, r in
                                             zip(dataset["layer"].values, ratios)))
    rising = np.all(np.diff(ratios) > 0)
    lines.append(f"  {'':<9}above 1 in {sum(r > 1 for r in ratios)} of {len(ratios)} layers; "
                 f"{'rises' if rising else 'does not rise monotonically'} with depth")
  diverged = int(dataset["sae_diverged"].sum()) if "sae_diverged" in dataset else 0
  if diverged:
    lines.append(f"warning: {diverged} SAE(s) hit a non-finite loss and were frozen; see "
                 "`sae_diverged`")
  return "\n".join(lines)

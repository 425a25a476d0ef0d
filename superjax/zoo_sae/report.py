"""The zoo-SAE study's report: accuracies, SAE loss per stage and eps, and the preprint's
two trends measured, from saved results."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from superjax.claims.stats import spearman
from superjax.core.experiment import config_of
from superjax.sae.kinds import KINDS


def free_l0_kinds(dataset: xr.Dataset) -> list[str]:
  """The study's SAE kinds whose L0 can move (TopK's is k by construction)."""
  return [k for k in dataset["sae_kind"].values if not KINDS[str(k)].fixed_l0]


def seed_mean(values: xr.DataArray) -> xr.DataArray:
  """The mean over the zoo's seeds (results from before the seed axis have none)."""
  return values.mean("seed") if "seed" in values.dims else values


def l0_ratio(dataset: xr.Dataset) -> xr.DataArray:
  """L0 on attacked over L0 on clean inputs, per kind, layer, model and attack (mean
  over sparsities)."""
  return (dataset["l0_adversarial"] / dataset["l0_clean"]).mean("sparsity")


def trends(dataset: xr.Dataset) -> dict[str, Any]:
  """The preprint's two trends, measured: (1) SAE loss falls as eps grows (Spearman of
  sae_nmse against eps, per layer, averaged over kinds and sparsities); (2) adversarial
  inputs activate more latents (ratio l0_adversarial / l0_clean per kind, layer and
  attack, averaged over models and sparsities), more so in deeper layers, judged on the
  kinds whose L0 is free ("free" is None when the study has none). Seeds are averaged
  first; the claims judge each seed alone."""
  eps = dataset["model_eps"].values
  nmse = seed_mean(dataset["sae_nmse"].mean(("sae_kind", "sparsity")))
  rho = {layer: spearman(eps, nmse.sel(layer=layer).values) for layer in dataset["layer"].values}
  ratio = seed_mean(l0_ratio(dataset).mean("model_eps"))
  free = free_l0_kinds(dataset)
  per_kind = {str(kind): {a: ratio.sel(sae_kind=kind, attack=a).values.tolist()
                          for a in dataset["attack"].values}
              for kind in dataset["sae_kind"].values}
  pooled = ({a: ratio.sel(sae_kind=free, attack=a).mean("sae_kind").values.tolist()
             for a in dataset["attack"].values} if free else None)
  return {"nmse_vs_eps_spearman": rho, "l0_ratio_per_kind": per_kind, "l0_ratio_free": pooled,
          "free_kinds": free}


def render(dataset: xr.Dataset) -> str:
  cfg = config_of(dataset)
  lines = [f"{cfg.name}: SAEs on {len(cfg.eps)} x {cfg.seeds} ResNet18s ({cfg.source}; eps x "
           f"seeds), kinds {', '.join(cfg.sae_kinds)}; numbers are means over seeds",
           "", f"{'model eps':>10}{'clean acc':>11}" + "".join(
               f"{a + ' acc':>14}" for a in dataset["attack"].values)]
  for eps in dataset["model_eps"].values:
    clean = seed_mean(dataset["clean_accuracy"].sel(model_eps=eps))
    robust = seed_mean(dataset["robust_accuracy"].sel(model_eps=eps))
    lines.append(f"{eps:>10.3g}{float(clean):>11.3f}" + "".join(
        f"{float(robust.sel(attack=a)):>14.3f}" for a in dataset["attack"].values))
  lines += ["", "SAE nMSE (mean over sparsities) per layer and model eps:",
            f"{'kind':<6}{'layer':<8}" + "".join(f"{e:>9.3g}" for e in dataset["model_eps"].values)]
  for kind in dataset["sae_kind"].values:
    for layer in dataset["layer"].values:
      row = seed_mean(dataset["sae_nmse"].sel(sae_kind=kind, layer=layer).mean("sparsity")).values
      lines.append(f"{kind:<6}{layer:<8}" + "".join(f"{v:>9.3f}" for v in row))
  found = trends(dataset)
  lines += ["", "Trend 1 (preprint Fig. 5): SAE loss falls with eps. Spearman(nMSE, eps) per "
            "layer: " + ", ".join(f"{k} {v:+.2f}" for k, v in found["nmse_vs_eps_spearman"].items())]
  falls = [v < 0 for v in found["nmse_vs_eps_spearman"].values()]
  lines.append(f"  appears in {sum(falls)} of {len(falls)} layers")
  layers = dataset["layer"].values
  lines.append("Trend 2 (preprint Fig. 6): L0 adversarial / clean per kind and layer "
               "(mean over models and sparsities):")
  for kind, by_attack in found["l0_ratio_per_kind"].items():
    note = "  (L0 = k by construction: not evidence)" if KINDS[kind].fixed_l0 else ""
    for attack, ratios in by_attack.items():
      lines.append(f"  {kind:<10}{attack:<9}" + "  ".join(
          f"{layer} {r:.2f}" for layer, r in zip(layers, ratios)) + note)
  if found["l0_ratio_free"] is None:
    lines.append("  no kind with a free L0 was trained: trend 2 cannot be judged "
                 "(add relu, jumprelu or batchtopk to sae_kinds)")
  else:
    lines.append(f"  judged on {', '.join(found['free_kinds'])} (L0 free):")
    for attack, ratios in found["l0_ratio_free"].items():
      rising = np.all(np.diff(ratios) > 0)
      lines.append(f"  {attack:<9}above 1 in {sum(r > 1 for r in ratios)} of {len(ratios)} "
                   f"layers; {'rises' if rising else 'does not rise monotonically'} with depth")
  diverged = int(dataset["sae_diverged"].sum()) if "sae_diverged" in dataset else 0
  if diverged:
    lines.append(f"warning: {diverged} SAE(s) hit a non-finite loss and were frozen; see "
                 "`sae_diverged`")
  return "\n".join(lines)

"""The zoo-SAE study's figures (the preprint's Figures 5 and 6), from saved results."""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from superjax.core import figures
from superjax.sae.kinds import KINDS
from superjax.zoo_sae import report


@figures.styled
def sae_loss_vs_eps(dataset: xr.Dataset) -> Figure:
  """Figure 5: SAE loss against the models' eps, one panel per stage."""
  eps = dataset["model_eps"].values
  layers = dataset["layer"].values
  fig, axes = figures.subplots(1, len(layers), figsize=(3.2 * len(layers), 3.0), squeeze=False)
  for ax, layer in zip(axes[0], layers):
    for kind, style in zip(dataset["sae_kind"].values, ("-", "--", ":", "-.")):
      for s in dataset["sparsity"].values:
        value = float(dataset["sparsity_value"].sel(sae_kind=kind, sparsity=s))
        label = f"{kind} {'k' if KINDS[str(kind)].control == 'k' else 'λ'}={value:g}"
        nmse = report.seed_mean(dataset["sae_nmse"].sel(sae_kind=kind, layer=layer, sparsity=s))
        ax.plot(np.arange(len(eps)), nmse, style, marker="o", ms=3, label=label)
    ax.set_xticks(np.arange(len(eps)), [f"{e:g}" for e in eps])
    ax.set_title(layer)
    ax.set_xlabel("adversarial training eps")
  axes[0, 0].set_ylabel("SAE normalised MSE")
  axes[0, -1].legend(fontsize=7, frameon=False)
  fig.suptitle("SAE reconstruction loss falls as robustness grows (cf. Gorton & Lewis Fig. 5)")
  fig.tight_layout()
  return fig


@figures.styled
def l0_adversarial_ratio(dataset: xr.Dataset) -> Figure:
  """Figure 6: L0 on adversarial inputs over L0 on clean inputs, per stage and attack."""
  eps = dataset["model_eps"].values
  layers = dataset["layer"].values
  # TopK's L0 is k on any input: only kinds whose L0 is free can show the trend.
  free = report.free_l0_kinds(dataset) or list(dataset["sae_kind"].values)
  ratio = report.seed_mean(report.l0_ratio(dataset).sel(sae_kind=free).mean("sae_kind"))
  attacks = dataset["attack"].values
  fig, axes = figures.subplots(1, len(attacks), figsize=(4.2 * len(attacks), 3.2),
                               sharey=True, squeeze=False)
  colors = figures.colormap("viridis")(np.linspace(0, 0.9, len(eps)))
  for ax, attack in zip(axes[0], attacks):
    for e, color in zip(eps, colors):
      ax.plot(np.arange(len(layers)), ratio.sel(attack=attack, model_eps=e), marker="o",
              color=color, label=f"eps {e:g}")
    ax.axhline(1.0, color="gray", lw=0.8, ls=":")
    ax.set_xticks(np.arange(len(layers)), layers)
    ax.set_title(attack)
  axes[0, 0].set_ylabel(f"L0 adversarial / L0 clean ({', '.join(free)})")
  axes[0, -1].legend(fontsize=7, frameon=False)
  fig.suptitle("Adversarial inputs activate more SAE latents (cf. Gorton & Lewis Fig. 6)")
  fig.tight_layout()
  return fig


FIGURES = {"sae_loss_vs_eps": sae_loss_vs_eps, "l0_adversarial_ratio": l0_adversarial_ratio}


def draw(dataset: xr.Dataset) -> dict[str, Figure]:
  return {name: draw_one(dataset) for name, draw_one in FIGURES.items()}

"""The claims of Gorton & Lewis 2025 about real models that the zoo-SAE study tests
(Figures 5 and 6), measured from a finished run with the report's numbers
(report.trends) and judged against the thresholds below (`superjax scorecard`).

The zoo holds one model per eps, so there is no seed spread; the spread given is over
SAE kinds, sparsities and stages.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from superjax.core.scorecard import Claim, Finding
from superjax.core.stats import spearman
from superjax.zoo_sae import report

GORTON = "Gorton & Lewis 2025"

# Fig. 5: "more robust models consistently achieve better reconstruction loss": nMSE
# falls with eps (Spearman < 0) in every stage holds; in at least half of them, partly.
STAGES_PARTLY = 0.5
# Fig. 6: adversarial inputs raise L0 (ratio above 1) in every stage and for every attack
# holds, with the deepest stage's ratio above the first's ("increasing throughout the
# model"); above 1 in at least half of the (stage, attack) cells, partly.
L0_RAISED = 1.0


def nmse_falls_with_eps(dataset: xr.Dataset) -> Finding:
  rho = report.trends(dataset)["nmse_vs_eps_spearman"]
  eps = dataset["model_eps"].values
  cells = [spearman(eps, dataset["sae_nmse"].sel(sae_kind=kind, layer=layer,
                                                 sparsity=sparsity).values)
           for kind in dataset["sae_kind"].values for layer in dataset["layer"].values
           for sparsity in dataset["sparsity"].values]
  cells = np.asarray(cells)
  falls = [v < 0 for v in rho.values()]
  measured = ("Spearman(SAE nMSE, eps) per stage (mean over kinds and sparsities): "
              + ", ".join(f"{layer} {v:+.2f}" for layer, v in rho.items())
              + f"; negative in {int(np.sum(cells < 0))} of {cells.size} (kind, stage, "
              f"sparsity) cells; one model per eps ({len(eps)} models, no seed spread)")
  share = float(np.mean(falls))
  reason = f"nMSE falls with eps in {sum(falls)} of {len(falls)} stages"
  return Finding(measured, "holds" if all(falls) else "partly" if share >= STAGES_PARTLY
                 else "does not hold", reason)


def l0_rises_on_attacks(dataset: xr.Dataset) -> Finding:
  found = report.trends(dataset)
  pooled = found["l0_ratio_free"]
  if pooled is None:
    raise ValueError("no SAE kind with a free L0 was trained (TopK's L0 is k by "
                     "construction); add relu, jumprelu or batchtopk to sae_kinds")
  layers = [str(layer) for layer in dataset["layer"].values]
  ratios = np.asarray(list(pooled.values()))  # (attack, layer)
  measured = (f"L0 attacked / clean ({', '.join(found['free_kinds'])} SAEs, mean over models "
              "and sparsities): " + "; ".join(
                  f"{attack} " + ", ".join(f"{layer} {r:.2f}" for layer, r in zip(layers, values))
                  for attack, values in pooled.items()))
  above = ratios > L0_RAISED
  deeper = bool(np.all(ratios[:, -1] > ratios[:, 0])) if len(layers) > 1 else False
  holds = bool(above.all()) and deeper
  reason = (f"above 1 in {int(above.sum())} of {above.size} (attack, stage) cells; the "
            f"deepest stage's ratio {'exceeds' if deeper else 'does not exceed'} the first's")
  return Finding(measured, "holds" if holds else "partly" if above.mean() >= 0.5
                 else "does not hold", reason)


CLAIMS: tuple[Claim, ...] = (
    Claim("gorton.fig5_sae_loss", GORTON, "Fig. 5",
          "For a given SAE sparsity, more robust models (larger adversarial-training eps) "
          "consistently achieve lower SAE reconstruction loss, in every residual stage.",
          "digits_robust_sae", nmse_falls_with_eps),
    Claim("gorton.fig6_l0", GORTON, "Fig. 6",
          "Adversarial inputs (FGSM, PGD) activate more SAE latents than clean ones, "
          "increasingly through the model: about 1.1x after the first layer, 2x after block 1, "
          "1.5x after block 2, 2-4x after block 3.",
          "digits_robust_sae", l0_rises_on_attacks),
)

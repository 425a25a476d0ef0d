"""SAEs where the features are known: toy models of superposition, and grids of SAEs of
every kind trained on their hidden activations h = W x and scored against the true
feature directions W_i (Gorton & Lewis 2025's premise that SAE loss tracks superposition,
tested where superposition can be measured).

  config.py   ToySAEConfig: the toy grid and the SAE grid
  run.py      the toy pass, each model's tokens (clean and attacked), the SAE passes
  report.py, figures.py   four questions answered from saved results
  claims.py   the preprint's premise as a claim, for `superjax scorecard`
"""

from superjax.core.experiment import Experiment
from superjax.toy_sae import claims, config, figures, report, run

EXPERIMENT = Experiment(name="toy_sae", config=config.ToySAEConfig, run=run.run,
                        work=run.total_steps, report=report.render, figures=figures.draw,
                        tiny=config.tiny, claims=claims.CLAIMS, saes=run.sae_runs)

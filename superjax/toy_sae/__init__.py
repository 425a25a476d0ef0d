"""SAEs where the features are known: toy models of superposition, and grids of SAEs of
every kind trained on their hidden activations h = W x and scored against the true
feature directions W_i (Gorton & Lewis 2025's premise that SAE loss tracks superposition,
tested where superposition can be measured). A second study counts the effective features
of those SAEs (Bereska et al. 2025) in clean and adversarially trained toy models from
abundant to scarce capacity.

  config.py   ToySAEConfig: the toy grid and the SAE grid; EffectiveConfig: the
              effective-feature study, one toy-SAE study per feature count
  run.py      the toy pass, each model's tokens (clean and attacked), the SAE passes
  effective.py   effective features from the SAEs' activation mass
  report.py, figures.py   both studies' questions answered from saved results
  claims.py   the preprint's premise and Bereska et al.'s counter-claim, for
              `superjax scorecard`
"""

from superjax.core.experiment import Experiment
from superjax.toy_sae import claims, config, figures, report, run

EXPERIMENT = Experiment(name="toy_sae", config=config.ToySAEConfig, run=run.run,
                        work=run.total_steps, report=report.render, figures=figures.draw,
                        tiny=config.tiny, claims=claims.CLAIMS, saes=run.sae_runs,
                        # SAEs are scored against the true W_i (MCC): as on the CPU
                        precision="highest",
                        # the SAE passes need the toy models' activations: checked on resume
                        passes=lambda cfg, run_dir: [run.toy_models_pass(cfg, run_dir)])
EFFECTIVE_EXPERIMENT = Experiment(
    name="toy_sae_effective", config=config.EffectiveConfig, run=run.run_effective,
    work=run.total_effective_steps, report=report.render_effective,
    figures=figures.draw_effective, tiny=config.tiny_effective,
    claims=claims.EFFECTIVE_CLAIMS,
    # effective-feature counts are entropies of small activation masses: as on the CPU
    precision="highest",
    passes=lambda cfg, run_dir: [run.toy_models_pass(cfg.study(n), run_dir, f"_n{n}")
                                 for n in cfg.features])

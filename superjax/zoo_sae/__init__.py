"""SAEs on the stages of a zoo of robust ResNet18s (Gorton & Lewis 2025, Sec. 5).

For models that differ in adversarial-training budget eps, SAEs are trained on each
stage's activations (every spatial position of every image is one input vector) and
measured on held-out images, clean and attacked:

  sae_nmse        fraction of variance unexplained on clean inputs: lower means the stage
                  is easier to decompose, i.e. less superposition (preprint Figure 5).
  l0_clean        mean active latents per input vector on clean images.
  l0_adversarial  the same on FGSM and PGD (Linf, `attack_eps`) adversarial images; the
                  preprint finds it above l0_clean, increasingly with depth (Figure 6).

  config.py   ZooSAEConfig    run.py   the zoo pass, measurements, the SAE passes
  tokens.py   activation tokens of stages    report.py, figures.py   from saved results
  claims.py   the preprint's Figures 5 and 6 as claims, for `superjax scorecard`
"""

from superjax.core.experiment import Experiment
from superjax.zoo_sae import claims, config, figures, report, run

EXPERIMENT = Experiment(name="zoo_sae", config=config.ZooSAEConfig, run=run.run,
                        work=run.total_steps, report=report.render,
                        figures=figures.draw, tiny=config.tiny, claims=claims.CLAIMS,
                        saes=run.sae_runs, passes=run.passes,
                        # its cost is convolutions; TF32 cannot move its rank and 1.1x-4x claims
                        precision="high")

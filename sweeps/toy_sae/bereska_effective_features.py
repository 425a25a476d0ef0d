"""Bereska et al. 2025 on toy models: does adversarial training raise the effective
feature count where capacity is ample and lower it where it is scarce?

Reproduces: the paper's counter-claim to Gorton & Lewis 2025, where the features are
known. Toy models (ReLU output, width m = 20, density 0.1) of n = 10, 20, 40 and 100
features, n/m from 0.5 (a dimension for every feature) to 5 (features must share), each
clean (alpha = 1) and adversarially trained with the Gorton & Lewis attack (alpha = 0.5,
eps 0.1 x mean ||x||), 5 seeds: 40 toy models of 8,000 steps. On each, a ReLU SAE (L1
3, one coefficient for every model as in the paper) with 8x expansion trains 8,000 steps;
its activation mass on held-out inputs gives the effective features F = exp(entropy of
p), p_j = latent j's share of sum_x |a_j(x)|.

Command:   superjax run bereska_effective_features
Runtime:   about 5 minutes on 2 CPU cores (estimated from timed runs at 1/20 and 1/10 of
           the steps: about 85 CPU-s of compiling and 16 CPU-s per 400 steps of every pass).
Converged: `--set toy_steps=16000 --set sae_steps=16000 --out <dir>` doubles the steps;
           the scorecard given both run directories shows the claim's numbers side by side.
Expected:  per the paper, (F robust - F clean) / F clean above 0 at n/m = 0.5 and below 0
           at n/m = 5, seed by seed; the report prints F, features per dimension, SAE L0
           and nMSE for every n.
"""

from superjax.toy_sae.config import EffectiveConfig

CONFIG = EffectiveConfig(name="bereska_effective_features", description=__doc__)

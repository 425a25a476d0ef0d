"""Elhage et al. 2022 adversarial training at a large budget.

Reproduces: the paper's remark that adversarial training reduces superposition, but that
the attacks had to be unreasonably large (80% of the input's L2 norm) to remove it. The
elhage_adversarial models (n=20 features, m=5 dimensions, ReLU output, importance 0.9^i)
at 8 densities from 1 to 0.01, trained clean (alpha = 1) and on adversarial inputs alone
(alpha = 0: x_adv made inside every step by the preprint's attack, noise + one L2
gradient step) with a budget of 0.8 x each input's own norm.

Command:   superjax run elhage_adversarial_training
           superjax run elhage_adversarial_training --set alpha=1,0.5   (half clean loss)
Runtime:   11 min on 2 CPU cores shared with four other jobs (measured).
Measured:  features per dimension (best of 3 seeds), clean -> adversarial: 1.00 -> 0.00
           at 1-S = 1 (the attack erases the dense model), 2.02 -> 0.22 at 0.27, 3.20 ->
           0.94 at 0.07, 5.03 -> 1.07 at 0.01: at most 1.07 features per dimension remain,
           no superposition. With alpha = 0.5 (half the loss clean) the same budget leaves
           up to 3.04 (35% fewer than clean over the sparsest third): superposition
           reduced, not removed.
"""

import numpy as np

from superjax import SweepConfig

CONFIG = SweepConfig(
    name="elhage_adversarial_training",
    description=__doc__,
    models=("relu",),
    n=20,
    m=5,
    importance=(0.9,),
    density=tuple(np.logspace(0, -2, 8).tolist()),
    alpha=(1.0, 0.0),
    train_attack="gorton",
    attack_eps=0.8,
    per_sample_eps=True,
    seeds=3,
    steps=10_000,
    eval_attacks=("analytic", "gorton"),
    figures=("vulnerability", "features_per_dim"),
    reports=("adversarial", "seed_spread"),
)

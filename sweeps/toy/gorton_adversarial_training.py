"""Gorton & Lewis 2025 Figures 2-4: adversarial training controls superposition.

Reproduces: the preprint's adversarial training. The gorton_vulnerability grid (n=100,
m=20, ReLU output, 30 densities from 1.0 to 0.1) crossed with alpha in {1.0, 0.5}: the
loss alpha L(x) + (1 - alpha) L(x_adv), x_adv made on the fly inside every step by the
preprint's attack (noise + one L2 gradient step, eps = 0.1 x the mean input norm).
alpha = 1 is clean training. 150,000 steps at lr 1e-3 as in the preprint.

Figures: features per dimension and vulnerability, clean vs robust (Figure 2); the
superposition graph lit by a clean and an adversarial input with interference heatmaps
(Figure 3); W^T W of robust vs non-robust models (Figure 4).

Command:   superjax run gorton_adversarial_training                     (150,000 steps)
           superjax run gorton_adversarial_training --set steps=10000
Runtime:   the full sweep is GPU work; see the README's sweep table for measured CPU rates.
Expected:  alpha = 0.5 models hold fewer features per dimension than alpha = 1 at the
           sparse end and are less vulnerable; non-robust models show about 2x the mean
           off-diagonal interference of robust ones.
"""

import numpy as np

from superjax import SweepConfig

CONFIG = SweepConfig(
    name="gorton_adversarial_training",
    description=__doc__,
    models=("relu",),
    n=100,
    m=20,
    density=tuple(np.geomspace(1.0, 0.1, 30).tolist()),
    alpha=(1.0, 0.5),
    train_attack="gorton",
    seeds=1,
    steps=150_000,
    log_every=1_000,
    checkpoint_every=10_000,
    eval_attacks=("gorton", "pgd"),
    figures=("vulnerability", "superposition_graph", "robust_geometry"),
    reports=("adversarial",),
)

"""Elhage et al. 2022 superposition and adversarial vulnerability (analytic attack).

Reproduces: the paper's plot of vulnerability and features per dimension against
sparsity. n=20 features, m=5 dimensions, ReLU output, importance 0.9^i, 15 densities from
1 to 0.01. Every model is attacked with Elhage's analytic attack (for each feature i the
direction (W^T W)_i scaled to eps = 0.1 x the mean input norm, keeping the most harmful),
the preprint's gradient attack and random noise.

Command:   superjax run elhage_adversarial
Runtime:   measured on 2 CPU cores, see the README's sweep table.
Expected:  vulnerability tracks features per dimension, rising several-fold as
           superposition forms.
"""

import numpy as np

from superjax import SweepConfig

CONFIG = SweepConfig(
    name="elhage_adversarial",
    description=__doc__,
    models=("relu",),
    n=20,
    m=5,
    importance=(0.9,),
    density=tuple(np.logspace(0, -2, 15).tolist()),
    seeds=3,
    steps=10_000,
    eval_attacks=("analytic", "gorton", "random"),
    figures=("vulnerability", "features_per_dim"),
    reports=("adversarial", "seed_spread"),
)

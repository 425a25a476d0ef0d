"""Elhage et al. 2022 intro figure: n=5 features in m=2 dimensions, linear vs ReLU output.

Reproduces: the paper's Figure 1 / "demonstrating superposition" grid. For each of ten
feature densities 1-S = 20^-linspace(0, 1, 10) (1.0 down to 0.05) it shows W^T W and the
feature norms coloured by superposition, for the linear and the ReLU-output model, and
features per dimension against density.

Command:   superjax run elhage_intro
Runtime:   24 s on 2 CPU cores (measured, the whole command; 35 s at 20,000 steps).
Expected:  the linear model keeps the 2 most important features (features per dimension
           <= 1 at every density); the ReLU model packs more features as density falls:
           all 5 features, a pentagon, at 1-S = 0.05. Counting features that is 2.5 per
           dimension; ||W||_F^2 / m reads about 3.2 because the pentagon's vectors settle
           at norm ~1.13 with a negative bias (measured: 1.00, 2.0 at 0.26, 3.20 at 0.05).
"""

import numpy as np

from superjax import SweepConfig

CONFIG = SweepConfig(
    name="elhage_intro",
    description=__doc__,
    models=("linear", "relu"),
    n=5,
    m=2,
    importance=(0.9,),
    density=tuple((20.0 ** -np.linspace(0, 1, 10)).tolist()),
    seeds=5,
    steps=10_000,
    batch=1024,
    lr=(1e-3,),
    figures=("intro", "features_per_dim"),
    reports=("features_per_dim",),
)

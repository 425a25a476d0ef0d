"""Elhage et al. 2022 superposition overview: n=100 features in m=20 dimensions.

Reproduces: the paper's "superposition as a phase change" overview: features per
dimension against feature density for importance 100^-linspace(0, 1, n) (each feature a
constant factor less important than the previous), 20 densities from 1 to 0.001, for
the ReLU-output model (the linear model stays at <= 1 feature per dimension).

Command:   superjax run elhage_superposition
Runtime:   20 models of 100 x 20, 10,000 steps: 1 min 49 s on 2 CPU cores (measured).
Expected:  about 1 feature per dimension when dense (the 20 most important features,
           orthogonal), rising steadily as density falls; measured 1.00 at 1-S = 1, 2.0
           at 0.16 and 5.9 at 0.001 (above n/m = 5 because represented features end with
           norms above 1).
"""

import numpy as np

from superjax import SweepConfig

N = 100

CONFIG = SweepConfig(
    name="elhage_superposition",
    description=__doc__,
    models=("relu",),
    n=N,
    m=20,
    # importance**i with importance = 100**(-1/(N-1)) gives 100^-linspace(0, 1, N).
    importance=(100.0 ** (-1.0 / (N - 1)),),
    density=tuple(np.logspace(0, -3, 20).tolist()),
    seeds=1,
    steps=10_000,
    figures=("intro", "features_per_dim"),
    reports=("features_per_dim",),
)

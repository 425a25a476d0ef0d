"""Elhage et al. 2022 n=2, m=1 phase diagram: when do two features share one dimension?

Reproduces: the paper's phase diagram of storing two features in one dimension, empirical
beside theoretical. Both features share density 1-S = logspace(-2, 0, 20); feature 2 has
importance r = logspace(-1, 1, 20) relative to feature 1; 10 seeds per cell, the seed
with the lowest held-out loss kept. A cell is labelled by which features its model
represents (||W_i|| > 0.5): feature 2 ignored, feature 1 ignored, both (superposition,
an antipodal pair in one dimension) or neither. The theoretical label is the candidate
solution with the lowest expected loss (`superjax.toy.theory`).

Command:   superjax run elhage_phase_n2m1            (10,000 steps)
           superjax run elhage_phase_n2m1 --set steps=4000
Runtime:   4,000 models on 2 CPU cores (measured): 13 min 40 s at 10,000 steps,
           about 6 min with --set steps=4000.
Expected:  superposition at low density and r near 1, one feature ignored elsewhere; at
           least 85% agreement with theory on represented cells (measured: 97.5% at
           10,000 steps, 97.8% at 4,000).
"""

import numpy as np

from superjax import SweepConfig

CONFIG = SweepConfig(
    name="elhage_phase_n2m1",
    description=__doc__,
    models=("relu",),
    n=2,
    m=1,
    density=tuple(np.logspace(-2, 0, 20).tolist()),
    relative_importance=tuple(np.logspace(-1, 1, 20).tolist()),
    seeds=10,
    steps=10_000,
    batch=1024,
    log_every=500,
    figures=("phase_n2m1",),
    reports=("phase_n2m1",),
)

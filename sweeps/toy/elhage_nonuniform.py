"""Elhage et al. 2022 non-uniform superposition: one feature's density varied, n=5, m=2.

Reproduces: the paper's deformation of the pentagon. Five equally important features at
density 0.05 settle into a pentagon; feature 4's density is then multiplied by
relative_density = logspace(-1, 1, 13) (0.005 to 0.5). As it moves away from the others
the pentagon deforms, and past a threshold the model jumps to another configuration
(e.g. two antipodal pairs with one feature dropped). 6 seeds per value: the figure shows
the arrangement of the best seed along the sweep and the loss of every configuration
the seeds reach, so the crossing of the configurations' losses is visible.

Command:   superjax run elhage_nonuniform
Runtime:   22 s on 2 CPU cores (measured; 25 s at 20,000 steps).
Expected:  a (deformed) pentagon near relative density 1; a different configuration
           wins at the extremes. Measured (best seed): a pentagon from x0.46 to x4.6,
           two antipodal pairs with feature 4 dropped at x0.1 to x0.32, and two
           antipodal pairs again at x6.8 and x10.
"""

import numpy as np

from superjax import SweepConfig

CONFIG = SweepConfig(
    name="elhage_nonuniform",
    description=__doc__,
    models=("relu",),
    n=5,
    m=2,
    density=(0.05,),
    relative_density=tuple(np.logspace(-1, 1, 13).tolist()),
    seeds=6,
    steps=10_000,
    figures=("nonuniform",),
    reports=("configurations", "seed_spread"),
)

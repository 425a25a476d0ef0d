"""Elhage et al. 2022 feature geometry: n=200 features in m=20 dimensions, uniform importance.

Reproduces: the paper's "geometry of superposition" figure: dimensions per feature
D* = m / ||W||_F^2 against 1/(1-S), every feature's dimensionality D_i scattered over it,
and horizontal lines at the sticky fractions 1, 3/4, 2/3, 1/2, 2/5, 3/8, 1/3 (dedicated
dimension, tetrahedron, triangle, antipodal pair, pentagon, square antiprism, ...).
The report gives the share of represented features (D_i >= 0.3) within 0.01 of a sticky
fraction, overall and per density (uniformly spread D_i would put about a quarter there).

Command:   superjax run elhage_geometry
Runtime:   13 min 0 s on 2 CPU cores (measured, 100 models: 20 densities x 5 seeds).
Expected:  D* falls from 1 as features get sparser while the D_i cluster on the sticky
           lines, most visibly at 1/2 (antipodal pairs) and 2/3, 2/5, 3/8. Measured:
           the report's best seeds, 78.1% of 242 represented features sticky (94.7-100%
           at 1/(1-S) = 1.8 to 4.5); the scorecard, per seed, 64.6% [58.0%, 71.4%] over
           5 seeds; from 1/(1-S) ~ 8 on, all 200 features share the 20 dimensions at
           D_i ~ 0.1 and none counts as represented by the D_i >= 0.3 rule.
"""

import numpy as np

from superjax import SweepConfig

CONFIG = SweepConfig(
    name="elhage_geometry",
    description=__doc__,
    models=("relu",),
    n=200,
    m=20,
    density=tuple(np.logspace(0, -2.5, 20).tolist()),
    seeds=5,
    steps=10_000,
    figures=("geometry", "features_per_dim"),
    reports=("sticky",),
)

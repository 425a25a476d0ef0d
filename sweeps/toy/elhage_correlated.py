"""Elhage et al. 2022 correlated and anticorrelated features, with learning dynamics.

Reproduces: the paper's experiments on feature correlation. n=6 features in m=3
dimensions form two sets of 3. `correlation` runs the same model on independent features,
correlated sets (a set fires together) and anticorrelated sets (at most one member fires);
every feature keeps density 1-S. W is recorded at 40 log-spaced steps.

Figures: W^T W during training for each correlation structure (best seed at the sparsest
density) with each feature's D_i over time. Report: the mean cosine between features of
the same set and of different sets, per structure and density.

Command:   superjax run elhage_correlated
Runtime:   32 s on 2 CPU cores (measured; 37 s at 20,000 steps).
Expected:  correlated features sit orthogonal to their set-mates (same-set cosine near 0)
           and antipodal to features of the other set (an octahedron); when dense they
           collapse towards a shared direction; anticorrelated features superpose with
           their set-mates (negative same-set cosine). Training first passes through a
           PCA-like phase before features split into the polytope. Measured (best seed,
           same-set / other-set cosine): correlated +0.52 / -0.02 at 1-S = 0.3 (collapse),
           -0.00 / -0.33 at 0.03 (octahedron, antipodes across sets); anticorrelated
           -0.33 / -0.11 (an antipodal pair inside each set). Independent features also
           read -0.33 / -0.11 with these seeds: their octahedron pairs features
           arbitrarily, so that number alone does not separate the two.
"""

from superjax import SweepConfig

CONFIG = SweepConfig(
    name="elhage_correlated",
    description=__doc__,
    models=("relu",),
    n=6,
    m=3,
    set_size=3,
    correlation=("independent", "correlated", "anticorrelated"),
    density=(0.3, 0.1, 0.03),
    seeds=6,
    steps=10_000,
    snapshots=40,
    figures=("trajectory",),
    reports=("correlations", "seed_spread"),
)

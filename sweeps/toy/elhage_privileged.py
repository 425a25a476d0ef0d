"""Elhage et al. 2022 privileged basis: h = ReLU(W x), n=10 features, m=5 neurons.

Reproduces: the paper's neuron-by-feature weight figure. With a ReLU on the hidden layer
the neuron basis is privileged; importance 0.75^i; densities 1 to 0.01. Results carry
`neuron_polysemanticity`, the participation ratio of each neuron's input weights (1 for a
neuron reading one feature).

Command:   superjax run elhage_privileged
Runtime:   43 s on 2 CPU cores (measured; 58 s at 20,000 steps).
Expected:  dense: monosemantic neurons for the most important features; as features get
           sparser the neurons turn polysemantic and represent more features. Measured
           (best seed): mean participation ratio 1.0 at 1-S = 0.46 (5 of 5 neurons
           monosemantic), 3.0 at 0.22, 4.9 at 0.046, 6.0 at 0.022; features per
           dimension 1.0 -> 7.6.
"""

import numpy as np

from superjax import SweepConfig

CONFIG = SweepConfig(
    name="elhage_privileged",
    description=__doc__,
    models=("hidden_relu",),
    n=10,
    m=5,
    importance=(0.75,),
    density=tuple(np.logspace(0, -2, 7).tolist()),
    seeds=6,
    steps=10_000,
    figures=("neuron_weights", "features_per_dim"),
    reports=("polysemanticity", "features_per_dim", "seed_spread"),
)

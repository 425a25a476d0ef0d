"""Elhage et al. 2022 computation in superposition: y = |x| with n=100, m=40 neurons.

Reproduces: the paper's neuron stacks. h = ReLU(W x), y = ReLU(W_out h + b), trained on
target |x| with x sparse and signed (U[-1, 1] when nonzero), uniform importance, at
densities 1, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001. `baseline_loss` is the loss of the best
constant output (sum_i Var |x_i|), the reference the model must beat.

Command:   superjax run elhage_abs
Runtime:   1 min 22 s on 2 CPU cores (measured).
Expected:  dense: monosemantic neurons, two per feature (one per sign: |x| =
           ReLU(x) + ReLU(-x)), 20 features kept by 40 neurons (loss/baseline 0.82);
           sparse: polysemantic neurons (participation ratio 5 to 13) computing more
           absolute values in superposition. Measured loss/baseline: 0.72 at 1-S = 0.1,
           0.62 at 0.03 to 0.003, 0.72 at 0.001; 30,000 steps with a cosine schedule or
           lr 3e-3 give the same. With uniform importance this stays above the 0.5 the
           paper's figures suggest; see the README's open questions.
"""

from superjax import SweepConfig

CONFIG = SweepConfig(
    name="elhage_abs",
    description=__doc__,
    models=("abs",),
    n=100,
    m=40,
    signed=True,
    density=(1.0, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001),
    seeds=1,
    steps=10_000,
    figures=("neuron_stacks",),
    reports=("baseline_ratio", "polysemanticity"),
)

"""Elhage et al. 2022 computation in superposition: y = |x| with n=100, m=40 neurons.

Reproduces: the paper's neuron stacks. h = ReLU(W x), y = ReLU(W_out h + b), trained on
target |x| with x sparse and signed (U[-1, 1] when nonzero), uniform importance, at
densities 1, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001. `baseline_loss` is the loss of the best
constant output (sum_i Var |x_i|), the reference the model must beat.

Command:   superjax run elhage_abs
Runtime:   17 min on 2 CPU cores (measured: 1,019 s for 35 models at batch 4,096, the
           cores partly shared with tests).
Expected:  dense: monosemantic neurons, two per feature (one per sign: |x| =
           ReLU(x) + ReLU(-x)), 16 features computed on both signs, the rest
           predicted near their mean (loss/baseline 0.83);
           sparse: polysemantic neurons (participation ratio 4 to 14) computing more
           absolute values in superposition. Measured loss/baseline at 1-S = 1, 0.3,
           0.1, 0.03, 0.01, 0.003, 0.001: 0.83, 0.81, 0.71, 0.56, 0.41, 0.37, 0.44.
           Below one half from 0.01 down, not at 0.1 or 0.03. The `sides` report
           says why: there the model computes one side, ReLU(x) or ReLU(-x), of
           94 (0.1) and 95 (0.03) of the 100 features, and an output that sees one
           side cannot beat (8 - 7p) / (16 - 20p + 6p^2) of its baseline (0.519 at
           p = 0.1; theory.abs_one_sided_ratio), so the ratio stays near or above one
           half until features get both sides. At 0.1 that takes neurons: with
           --set m=60 the ratio there is 0.60, with m=80 0.42 (46 features two-sided).
           At 0.03 it does not (m=80: 0.49, 92 one-sided). Longer training (30,000
           steps), lr 3e-3 or 1e-2, no weight decay, other seeds: no better.
           The report finds asymmetric superposition with inhibition (a lopsided
           neuron's interference cancelled by another) at 1-S = 0.3 (2 pairs) and
           0.1 (3), none in the dense or the sparsest models; the figure marks the
           strongest one's carrier (C) and inhibitor (I) neurons.
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
    seeds=5,
    steps=10_000,
    batch=4096,  # the sparse end sees a feature ~4 times per batch instead of once
    figures=("neuron_stacks",),
    reports=("baseline_ratio", "sides", "polysemanticity", "inhibition"),
)

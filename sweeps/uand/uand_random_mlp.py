"""Hänni et al. 2024 Theorem 3: a randomly initialised one-layer MLP epsilon-linearly
represents every pairwise AND of its n boolean inputs.

Reproduces: the max error at which a Gaussian layer ReLU(W x + b) (all entries standard
normal) reads out every pairwise AND, over EVERY input with exactly 2 of n = 16, 32, 64
features on (120, 496 and 2,016 inputs, enumerated) and every pair, 5 seeds. Readouts:
matched least squares (superjax.uand.readout.matched; r_ij . a(x), no bias term) fitted
on 8,192 sampled inputs; widths m = 32 ... 2,896 in steps of sqrt(2). The claim reads the
max error at the widest width (2,896) for every n; width needed at 0.25 is shown beside.

Limit: the fit whitens all n(n-1)/2 pair means at every width, ~ n^2 m^2 / 2 multiply-adds
per width, and every input multiplies the readouts by n^2 again: n = 128 (8,128 inputs x
8,128 pairs at m = 8,192) would take minutes per seed.

Command:   superjax run uand_random_mlp
Runtime:   48 s on 2 CPU cores (measured, the whole command; about 4 min wall when the
           cores are shared at a load average of 9).
Expected:  (2 seeds) max error at m = 2,896: 0.00 (n = 16, more neurons than inputs) and
           0.15 (n = 64); width needed at 0.25 128 (n = 16) and 1,448 (n = 64).
"""

from superjax.uand.config import UAndConfig

CONFIG = UAndConfig(
    name="uand_random_mlp",
    description=__doc__,
    constructions=("random_mlp",),
    inputs=("basis",),
    n=(16, 32, 64),
    s=(2,),
    active="exact",
    every_input=True,
    m=tuple(round(2 ** (k / 2)) for k in range(10, 24)),
    seeds=5,
    target=0.25,
    fitted_max_m=2896,
    fitted_max_n=64,
    fit_inputs=8192,
    trained_m=(32,),
)

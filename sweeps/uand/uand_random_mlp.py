"""Hänni et al. 2024 Theorem 3: a randomly initialised one-layer MLP epsilon-linearly
represents every pairwise AND of its n boolean inputs.

Reproduces: the hidden width at which a Gaussian layer ReLU(W x + b) (all entries standard
normal) reads out every pairwise AND to max error <= 0.25, against n = 16 ... 128, basis
inputs, exactly s = 2 active. Readouts: matched least squares (superjax.uand.readout.
matched; r_ij . a(x), no bias term) fitted on 8,192 sampled inputs; widths m = 32 ...
8,192 in steps of sqrt(2); max error over 32 test inputs x every pair; 3 seeds. This
reaches one n further than uand_scaling (fitted_max_m 2,048, powers of 2), where the
random MLP needed 128, 512, 813 neurons at n = 16, 32, 64 and no width up to 2,048 was
enough from n = 128 on.

Limit: the fit holds an m x m Gram matrix and whitens all n(n-1)/2 pair means at every
width, ~ n^2 m^2 / 2 multiply-adds per width; at n = 128, m = 8,192 that is minutes per
seed on 2 CPU cores, and n = 256 (4x the pairs) would not fit a 10-minute run.

Command:   superjax run uand_random_mlp
Runtime:   not yet measured at these defaults: n = 16 and 32 took ~10 min on 2 shared
           CPU cores with other jobs running; n = 64 and 128 were still running.
Measured so far: width needed 91, 128, 128 (n = 16) and 256, 362, 362 (n = 32) per seed.
           A one-seed probe at n = 128 (m up to 8,192, 8,192 fit inputs) reached max error
           0.267 at m = 2,048 and 0.196 at 2,896: width needed 2,896 there.
"""

from superjax.uand.config import UAndConfig

CONFIG = UAndConfig(
    name="uand_random_mlp",
    description=__doc__,
    constructions=("random_mlp",),
    inputs=("basis",),
    n=(16, 32, 64, 128),
    s=(2,),
    active="exact",
    m=tuple(int(round(2 ** (k / 2))) for k in range(10, 27)),
    seeds=3,
    target=0.25,
    test_inputs=32,
    fitted_max_m=8192,
    fitted_max_n=128,
    fit_inputs=8192,
    trained_m=(32,),
)

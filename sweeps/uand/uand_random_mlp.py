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
Runtime:   about 28 min on 2 CPU cores shared with three other jobs (measured: n = 16 and
           32 in ~10 min, n = 64 and 128 in 17.6 min).
Measured:  width needed (geometric mean over 3 seeds) 114, 323, 813, 1,448 at n = 16, 32,
           64, 128 (naive: 120, 496, 2,016, 8,128): fitted slope 1.23 [1.00, 1.50] (95%
           bootstrap over seeds). A random layer does represent every pairwise AND, with
           a width growing a little faster than n at these sizes: below the naive
           n(n-1)/2, steeper than U-AND on basis inputs (uand_scaling: slope 0.18, though
           U-AND is the wider of the two up to n = 128).
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

"""Hänni et al. 2024 U-AND: how wide one ReLU layer must be to compute all pairwise ANDs.

Reproduces: the scaling claims for computation in superposition. n boolean features
(n = 16 ... 512), exactly s = 2 active per input; every pairwise AND read out linearly
from one layer of hidden width m, measured as the max error over 32 test inputs x all
n(n-1)/2 pairs per seed (3 seeds). Constructions: naive (one neuron per pair), U-AND
(random subsets, p = 0.1 or 0.2, mean readout), a random Gaussian MLP with matched
least-squares readouts (Theorem 3; n <= 256, m <= 2048) and, for n <= 32, a one-layer MLP
trained for 1000 Adam steps at m = 256. Inputs are basis vectors or superposed: random
unit directions in d0 = n/2 dimensions (half as many dimensions as features; each read of
a feature carries interference of std about sqrt((s-1)/d0)). Width needed = smallest
tested m (32 ... 16384, powers of 2) with max error <= 0.25, enough to threshold every AND
at 0.5.

Command:   superjax run uand_scaling
Runtime:   7 min 45 s on 2 CPU cores (measured; n = 512 is half of it).
Expected:  basis inputs, U-AND: width needed 8,192 for n = 16 ... 128, then 16,384 (n=256)
           and 13,004 (n=512, geometric mean over seeds): fitted slope 0.18 [0.09, 0.23]
           (95% bootstrap over seeds; theory: polylog n), 10x fewer neurons than the naive
           130,816 at n = 512 (U-AND is wider than naive up to n = 128). Random MLP: 128,
           512, 813 neurons at n = 16, 32, 64 (slope 1.33 [0.90, 1.33]); it misses 0.25 within
           2,048 neurons from n = 128 on. Trained (n = 16, m = 256): max error 0.11,
           neurons reading ~8 features (U-AND ~3, random MLP ~6.5).
           Superposed inputs (d0 = n/2): no construction reaches 0.25 at n >= 64 (U-AND's max
           error stays above 1: interference from the ~p n features a neuron sums does not
           average out); only the random MLP does, at n = 16 and 32. The theory's sqrt(n)
           (and n^(2/3)) widths are not observed at these sizes.
"""

from superjax.uand.config import UAndConfig

CONFIG = UAndConfig(
    name="uand_scaling",
    description=__doc__,
    constructions=("naive", "uand", "random_mlp", "trained"),
    inputs=("basis", "superposed"),
    n=(16, 32, 64, 128, 256, 512),
    s=(2,),
    active="exact",
    m=tuple(2 ** k for k in range(5, 15)),
    p=(0.1, 0.2),
    seeds=3,
    target=0.25,
    test_inputs=32,
    d0_scale=0.5,
    d0_exponent=1.0,
    fitted_max_m=2048,
    fitted_max_n=256,
    trained_max_n=32,
    trained_m=(256,),
    train_steps=1000,
)

"""Hänni et al. 2024 U-AND: how wide one ReLU layer must be to compute all pairwise ANDs,
and from which n it needs fewer neurons than the naive layer.

Reproduces: the scaling claims for computation in superposition on basis inputs. n boolean
features (n = 32 ... 256), at most s = 2 active per input; every pairwise AND read out
from one layer of hidden width m by the U-AND mean readout; max error over EVERY input
with at most 2 features on and all n(n-1)/2 pairs, exact (superjax.uand.constructions.
uand_worst_errors, checked against enumeration), per seed, 5 seeds. Constructions: naive
(one neuron per pair, exact) and U-AND (random subsets, p = 0.1). Widths m = 2,048 ...
32,768 in steps of 2^(1/4). Width needed = smallest tested m with max error <= 0.25.

Deviations from the paper's construction (named by the claims): one subset probability
p = 0.1 (the paper's p follows its width formula); finite n. The random MLP and the trained circuit have their own sweeps
(uand_random_mlp) or none here: they cost more than this sweep's budget.

Command:   superjax run uand_scaling
Runtime:   33 s on 2 CPU cores (measured, the whole command; 3 to 4 min wall when the
           cores are shared at a load average of 9).
Expected:  (2 seeds) U-AND width needed 8,192, 11,585, 15,024, 16,384 at n = 32, 64, 128,
           256: slope 0.34; more neurons than naive up to n = 128 (8,128), 2x fewer at
           n = 256 (32,640).
"""

from superjax.uand.config import UAndConfig

CONFIG = UAndConfig(
    name="uand_scaling",
    description=__doc__,
    constructions=("naive", "uand"),
    inputs=("basis",),
    n=(32, 64, 128, 256),
    s=(2,),
    active="at_most",
    every_input=True,
    m=tuple(round(2 ** (k / 4)) for k in range(44, 61)),
    p=(0.1,),
    seeds=5,
    target=0.25,
    trained_m=(2048,),
)

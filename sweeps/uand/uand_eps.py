"""Hänni et al. 2024 U-AND: how the width needed depends on the target error eps and on
the number s of active features.

Reproduces: the dependence behind seed 002's widths d = O~(sqrt(m)/eps^2) (Theorem 2) and
d = O~(m^(2/3) s^2) (Theorem 8), for one U-AND layer on basis inputs at n = 32 features:
s = 2, 3, 4, 5 active (exactly), subset probabilities p = 0.03 ... 0.2 (the best per seed,
eps and s: the construction's p is chosen for its target), widths m = 1,024 ... 65,536 in
steps of 2^(1/4), 5 seeds. Max error over EVERY input with s features on, exact
(superjax.uand.constructions.uand_worst_errors). The claims read the width needed at
eps = 0.15, 0.2, 0.25, 0.3, 0.4 (s = 2) for the exponent of 1/eps, and at eps = 0.4 for
s = 2 ... 5 for the exponent of s.

Command:   superjax run uand_eps
Runtime:   54 s on 2 CPU cores (measured, the whole command; about 4 min wall when the
           cores are shared at a load average of 9).
Expected:  (1 seed) s = 2: width needed 2,048 / 4,871 / 8,192 / 13,777 / 38,968 at eps =
           0.4 / 0.3 / 0.25 / 0.2 / 0.15, an exponent of 1/eps of 2.9, not 2: the mean readout
           carries a bias (s-1) p on pairs with one feature on, so p must shrink with eps.
           eps = 0.4: 2,048 / 8,192 neurons at s = 2 / 3 and 40,342 at s = 5 (5 seeds), an
           exponent of s above 3.
"""

from superjax.uand.config import UAndConfig

CONFIG = UAndConfig(
    name="uand_eps",
    description=__doc__,
    constructions=("uand",),
    inputs=("basis",),
    n=(32,),
    s=(2, 3, 4, 5),
    active="exact",
    every_input=True,
    m=tuple(round(2 ** (k / 4)) for k in range(40, 65)),
    p=(0.03, 0.05, 0.07, 0.1, 0.14, 0.2),
    seeds=5,
    target=0.4,
    eps=(0.15, 0.2, 0.25, 0.3, 0.4),
    trained_m=(1024,),
)

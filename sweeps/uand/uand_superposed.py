"""Hänni et al. 2024 Theorem 2: U-AND when the inputs themselves are in superposition.

Reproduces: the width a U-AND layer needs when its n boolean features arrive compressed,
as unit directions e_i in d0 = n/2 < n dimensions (input E f). The directions are two
mutually unbiased bases of R^d0, the standard basis and a Hadamard basis with random
signs: every overlap is 0 or +-1/sqrt(d0), the least 2 d0 unit vectors in d0 dimensions
allow. n = 256, 512 (d0 = 128, 256), exactly s = 2 active, U-AND subsets with p = 0.03,
widths m = 8,192 ... 65,536 in steps of 2^(1/4); max error over 64 random inputs x every
pair per seed, 5 seeds. Width needed = smallest m with max error <= 0.5 (every AND on the
right side of 1/2).

Why this setting: with random directions, compression (d0 < n) and inputs readable to
better than eps meet only from n of about 2^16 on (the old setting, d0 = 16 n^(3/4) > n
at every n <= 512, never compressed its inputs and could not test the theorem). With
the unbiased bases the pair interference left after averaging is a rectified noise of
variance about s p per neuron plus overlaps of at most 2/sqrt(d0), so p = 0.03 and widths
up to 65,536 reach 0.5 at n = 256 and 512; at n = 128 (d0 = 64) a pilot seed reached it
only at 65,536. 64 random inputs: with 95% probability their max exceeds the error of
all but 4.6% of the inputs (every input: 32,640 and 130,816, too many to enumerate at
these widths).

Command:   superjax run uand_superposed
Runtime:   49 s on 2 CPU cores (measured, the whole command; 2 to 3 min wall when the
           cores are shared at a load average of 9). Each input sums only its active
           neurons (about 6%), exactly (superjax.uand.constructions.uand_prefix_errors).
Expected:  (1 to 2 seeds) max error 0.45 (n = 256) and 0.39 (n = 512) at m = 65,536; width
           needed about 30,000 at both n: no growth with n at a fixed compression d0/n.
"""

from superjax.uand.config import UAndConfig

CONFIG = UAndConfig(
    name="uand_superposed",
    description=__doc__,
    constructions=("uand",),
    inputs=("superposed",),
    n=(256, 512),
    s=(2,),
    active="exact",
    m=tuple(round(2 ** (k / 4)) for k in range(52, 65)),
    p=(0.03,),
    seeds=5,
    target=0.5,
    test_inputs=64,
    embedding="hadamard",
    d0_scale=0.5,
    d0_exponent=1.0,
    trained_m=(8192,),
)

"""Hänni et al. 2024 depth: stacked U-AND layers with and without error correction.

Reproduces: the motivation and the claim of the paper's error-correction construction
(Theorem 8; Theorem 6's single layer for a whole circuit is not built): errors of linear
readouts compound when U-AND layers are stacked, and stay bounded when error-correction
layers alternate with them. The circuit is a random
comparator network of depth 12 on n = 32 boolean features, exactly s = 2 active: each layer
pairs the previous layer's features at random and outputs AND and OR of every pair (so
every layer keeps exactly 2 active). Each circuit layer is one U-AND layer of m neurons
(m = 4,096, 16,384, 65,536; half ReLU(sum_S v - 1) neurons read by the U-AND mean for
AND, half ReLU(sum_S v) neurons read as holders-minus-others means for single features;
OR = a + b - AND; each subset S holds a feature with probability p = 0.1) reading the
previous layer's linear readouts. The corrected network adds after every U-AND layer a
correction layer 2 ReLU(v - 1/4) - 2 ReLU(v - 3/4), exact when |error| < 1/4. That layer
keeps the features in a BASIS (2 neurons per feature, 64 neurons), not in superposition as
the paper's Theorem 8 (width O~(m^(2/3) s^2) in its notation) does. Epsilon = max and
mean |readout - true value| over 256 test inputs x 32 features, per layer, 5 seeds.

Command:   superjax run hanni_depth
Runtime:   2 min 6 s on 2 CPU cores shared with other jobs (measured; m = 65,536 is 85 s).
Expected:  max error, seed mean [min, max], layer 1 -> layer 12:
           m = 65,536: uncorrected 0.158 -> 0.783 [0.690, 0.876] (5.0x; fitted growth
           +0.053 [+0.043, +0.063] per layer); corrected U-AND readouts 0.158 -> 0.144,
           never above 0.169, so every correction is exact (0 error after it) in 5 of 5
           seeds; mean error uncorrected 0.022 -> 0.053, corrected 0.022 -> 0.023.
           m = 16,384: uncorrected 0.210 -> 0.865 (4.1x); corrected 0.210 -> 0.189, exact
           after correction in 4 of 5 seeds (one layer of one seed reaches 0.256).
           m = 4,096: uncorrected 0.358 -> 0.906 (2.5x); corrected stays at 0.27-0.36 (no
           growth) but above the 1/4 margin, so the corrected values are not exact (max
           error after correction 0.05-0.22).
           Both claims (claims.py) hold at m = 65,536.
"""

from superjax.deep_circuits.config import DeepCircuitsConfig

CONFIG = DeepCircuitsConfig(
    name="hanni_depth",
    description=__doc__,
    n=32,
    s=2,
    active="exact",
    depth=12,
    m=(4096, 16384, 65536),
    p=(0.1,),
    seeds=5,
    test_inputs=256,
    checkpoint_every=4,
)

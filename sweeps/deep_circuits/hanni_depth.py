"""Hänni et al. 2024 depth: stacked U-AND layers with and without error correction IN A
BASIS (what is tested: a correction layer with two neurons per feature keeps the error
bounded through depth, while the uncorrected error grows).

Reproduces: the motivation of the paper's error-correction construction and its claim
that correction keeps errors bounded (Theorem 8; its correction layers keep the features in
superposition, width O~(m^(2/3) s^2) in the seed's notation; here the correction layer
2 ReLU(v - 1/4) - 2 ReLU(v - 3/4), exact when |error| < 1/4, keeps them in a basis: 64
neurons for n = 32. Theorem 6's single layer for a whole circuit is not built). The circuit
is a random comparator network of depth 12 on n = 32 boolean features, exactly s = 2
active: each layer pairs the previous layer's features at random and outputs AND and OR of
every pair (so every layer keeps exactly 2 active). Each circuit layer is one U-AND layer of
m neurons (m = 4,096, 16,384, 65,536; half ReLU(sum_S v - 1) neurons read by the U-AND
mean for AND, half ReLU(sum_S v) neurons read as holders-minus-others means for single
features; OR = a + b - AND; each subset S holds a feature with probability p = 0.1) reading
the previous layer's linear readouts. Epsilon = max and mean |readout - true value| over
EVERY input with 2 of the 32 features on (496 inputs) x 32 features, per layer, 5 seeds.

Command:   superjax run hanni_depth
Runtime:   32 s on 2 CPU cores (measured, the whole command; about 2 min wall when the
           cores are shared at a load average of 9).
Expected:  (2 seeds, every input) m = 65,536: uncorrected max error 0.163 -> 0.861 from layer
           1 to 12 (5.3x; +0.060 per layer); corrected U-AND readouts never above 0.164, so
           every correction is exact in 2 of 2 seeds. An earlier run over 256 sampled
           inputs and 5 seeds: m = 16,384 exact after correction in 4 of 5 seeds (one layer
           of one seed reached 0.256); m = 4,096 corrected stays at 0.27-0.36, above the 1/4
           margin, so the corrected values are not exact.
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
    every_input=True,
    checkpoint_every=4,
)

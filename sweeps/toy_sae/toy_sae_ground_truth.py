"""SAEs where the features are known: does SAE loss measure superposition?

Tests the premise of Gorton & Lewis 2025 Sec. 5 (SAE reconstruction loss as a proxy for
superposition) where superposition is known. The preprint's toy model (n=100 features,
m=20 dimensions, ReLU output) at 8 densities from 0.4 to 0.1 (denser ones hold no
superposition), clean (alpha = 1) and adversarially trained with the preprint's attack
(alpha = 0.5), 5 seeds: 80 toy models of 4,000 steps. For every toy model, its own inputs
give h = W x, and SAEs of four kinds (ReLU + L1, JumpReLU, TopK, BatchTopK) with 8x
expansion train 4,000 steps on them at L0 about 4: k = 4 for TopK and BatchTopK, two
penalty coefficients bracketing L0 4 for ReLU and JumpReLU (the one nearer 4 stands in per
toy model). Each SAE's dictionary is scored against the true directions W_i, its L0 is
measured on held-out inputs clean and attacked, and its activation mass per latent kept.

Command:   superjax run toy_sae_ground_truth
Runtime:   about 24 minutes on 2 CPU cores (estimated from timed runs at 1/10 and 1/5 of
           the steps: about 0.16 CPU-s per toy step and 0.43 CPU-s per SAE step of the
           whole grid, plus a minute of compiling).
Converged: doubling the steps (toy 4,000 -> 8,000 and SAE 4,000 -> 8,000) should move each
           kind's verdict number by less than its interval. To check, run
             superjax run toy_sae_ground_truth --set toy_steps=8000 --set sae_steps=8000 \\
               --out checkpoints/toy_sae_ground_truth_doubled
           and compare the two rows of each claim in
             superjax scorecard checkpoints/toy_sae_ground_truth \\
               checkpoints/toy_sae_ground_truth_doubled
Expected:  the report answers four questions with numbers and seed spreads: nMSE vs true
           features per dimension (across and within densities); recovery vs features per
           dimension; adversarially trained vs clean toy models at one density; L0 on
           attacked vs clean inputs for kinds whose L0 is free. The scorecard judges the
           premise per kind: each seed's clean and robust models of one density compared.
"""

from superjax.toy_sae.config import ToySAEConfig

CONFIG = ToySAEConfig(name="toy_sae_ground_truth", description=__doc__)

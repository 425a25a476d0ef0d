"""SAEs where the features are known: does SAE loss measure superposition?

Tests the premise of Gorton & Lewis 2025 Sec. 5 (SAE reconstruction loss as a proxy for
superposition) where superposition is known. The preprint's toy grid (n=100 features, m=20
dimensions, ReLU output, 30 densities 1 -> 0.1), clean (alpha = 1) and adversarially
trained with the preprint's attack (alpha = 0.5), 3 seeds: 180 toy models. For every toy
model, its own inputs give h = W x, and SAEs of four kinds (ReLU + L1, JumpReLU, TopK,
BatchTopK) at expansions 2 and 5 train on them, at L0 matched to the expected active
features and at a fixed L0 of 4 (k kinds), or at three penalty coefficients (ReLU,
JumpReLU). Each SAE's dictionary is scored against the true directions W_i, and its L0 is
measured on held-out inputs clean and attacked.

Command:   superjax run toy_sae_ground_truth
Runtime:   measured on 2 CPU cores, see the README's sweep table.
Expected:  the report answers four questions with numbers and seed spreads: nMSE vs true
           features per dimension (matched and fixed L0, across and within densities);
           recovery vs features per dimension; adversarially trained vs clean toy models
           at one density; L0 on attacked vs clean inputs for kinds whose L0 is free.
"""

from superjax.toy_sae.config import ToySAEConfig

CONFIG = ToySAEConfig(name="toy_sae_ground_truth", description=__doc__)

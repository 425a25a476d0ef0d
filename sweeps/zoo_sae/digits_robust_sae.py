"""Gorton & Lewis 2025 Figures 5-6 on bundled data: SAEs on robust digit ResNet18s.

Reproduces: the preprint's ResNet18 study in miniature, with nothing to download. Small
CIFAR-stem ResNet18s (8 channels in layer1) train on scikit-learn's 8x8 digits, standard and
with PGD-L2 adversarial training at eps 0.5, 1 and 2, as one vmapped program. TopK SAEs
(k = 2, 4, 8) and ReLU SAEs (L1 weight 10, 3, 1), 8x expansion, then train on every
stage's activations (each spatial position of each training image is one input), all
models and sparsities of a stage together. Held-out digits, clean and attacked with FGSM
and 10-step PGD (Linf, eps 0.1), give sae_nmse, l0_clean and l0_adversarial.

Command:   superjax run digits_robust_sae
Runtime:   measured on 2 CPU cores, see the README's sweep table.
Expected:  (1) robust models' SAEs reconstruct better (nMSE falls with eps) and (2)
           adversarial inputs activate more latents than clean ones (ratio > 1), more so
           in deeper stages. The report says, per stage, whether each trend appears.
"""

from superjax.zoo_sae.config import ZooSAEConfig

CONFIG = ZooSAEConfig(name="digits_robust_sae", description=__doc__, source="digits")

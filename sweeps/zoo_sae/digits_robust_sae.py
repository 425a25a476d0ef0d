"""Gorton & Lewis 2025 Figures 5-6 on bundled data: SAEs on robust digit ResNet18s.

Reproduces: the preprint's ResNet18 study in miniature, with nothing to download. The
preprint's models are madrylab's robust ImageNet ResNet18s; these are small CIFAR-stem
ResNet18s (8 channels in layer1) trained on scikit-learn's 8x8 digits, standard and with
PGD-L2 adversarial training at eps 0.5, 1 and 2, 3 seeds per eps, as one vmapped program.
TopK SAEs (k = 2, 4, 8) and ReLU SAEs (L1 weight 10, 3, 1), 8x expansion, then train on
every stage's activations (each spatial position of each training image is one input), all
models and sparsities of a stage together. Held-out digits, clean and attacked with FGSM
and 10-step PGD (Linf, eps 0.1), give sae_nmse, l0_clean and l0_adversarial.

Command:   superjax run digits_robust_sae
Runtime:   about 50 minutes on 2 CPU cores (3x the 17 minutes measured with one seed per
           eps; see the README's sweep table). `--set seeds=1` runs the one-seed study,
           whose claims are then inconclusive (an interval needs 3 seeds).
Expected:  (1) robust models' SAEs reconstruct better (Spearman(eps, nMSE) negative in
           every stage) and (2) adversarial inputs activate 1.1x to 4x the latents of clean
           ones in the non-robust model's stages. The report gives both per stage; the
           scorecard judges each seed's models alone.
"""

from superjax.zoo_sae.config import ZooSAEConfig

CONFIG = ZooSAEConfig(name="digits_robust_sae", description=__doc__, source="digits", seeds=3)

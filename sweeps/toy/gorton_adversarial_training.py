"""Gorton & Lewis 2025 Figures 2-4: adversarial training controls superposition.

Reproduces: the preprint's adversarial training. The gorton_vulnerability grid (n=100,
m=20, ReLU output, 30 densities from 1.0 to 0.1) crossed with alpha in {1.0, 0.5}: the
loss alpha L(x) + (1 - alpha) L(x_adv), x_adv made on the fly inside every step by the
preprint's attack (noise + one L2 gradient step, eps = 0.1 x the mean input norm).
alpha = 1 is clean training. 150,000 steps at lr 1e-3 as in the preprint, 5 seeds. The
parameters are recorded and measured after 10,000, 20,000 and 40,000 steps as well
(snapshot_at), so one run shows how each claim's numbers move with training length.

Figures: features per dimension and vulnerability, clean vs robust (Figure 2); the
superposition graph lit by a clean and an adversarial input with interference heatmaps
(Figure 3); W^T W of robust vs non-robust models (Figure 4).

Command:   superjax run gorton_adversarial_training      (the preprint's run, GPU work)
           What 2 CPU cores manage, the sparse densities only (where robust and clean
           models differ), with the 10,000 and 20,000 step lengths recorded on the way:
           superjax run gorton_adversarial_training --set steps=40000 --set seeds=4
             --set 'density=geomspace(0.4,0.1,4)' --set snapshot_at=10000,20000
Runtime:   adversarial steps of this grid ran at about 280 model-steps per CPU-second
           (n=100, m=20, 4 seeds, measured on a busy machine); the preprint's run is 9M
           model-steps per seed. The CPU command is 1.28M model-steps: about 38 min on 2
           free cores (estimated).
Expected (the preprint): alpha = 0.5 models hold fewer features per dimension than
           alpha = 1 and are less vulnerable; attacks light more interfering features in
           non-robust models; non-robust models show about 2x the mean off-diagonal
           interference of robust ones; similar geometry (scored by `superjax scorecard`).
"""

import numpy as np

from superjax import SweepConfig

CONFIG = SweepConfig(
    name="gorton_adversarial_training",
    description=__doc__,
    models=("relu",),
    n=100,
    m=20,
    density=tuple(np.geomspace(1.0, 0.1, 30).tolist()),
    alpha=(1.0, 0.5),
    train_attack="gorton",
    train_eps=(0.1,),
    seeds=5,
    steps=150_000,
    snapshot_at=(10_000, 20_000, 40_000),
    log_every=1_000,
    checkpoint_every=10_000,
    eval_attacks=("gorton", "pgd"),
    figures=("vulnerability", "superposition_graph", "robust_geometry"),
    reports=("adversarial",),
)

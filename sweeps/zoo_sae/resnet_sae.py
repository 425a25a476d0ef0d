"""Gorton & Lewis 2025 Figures 5-6: SAEs on the stages of madrylab's robust ImageNet ResNet18s.

Reproduces: the preprint's real-model study. For each converted-model directory (see the
README, "ResNet18: converting the madrylab robust checkpoints") and its eps, SAEs are
trained on layer1..layer4 activations of ImageNet images (16 random spatial positions per
image and stage), TopK with k = 16, 32, 64 and ReLU with L1 weight 10, 3, 1, 8x expansion,
batch 4096, lr 5e-4; held-out images, clean and attacked (FGSM and PGD, Linf eps 4/255),
give sae_nmse, l0_clean and l0_adversarial.

The converted models and images are yours to supply (nothing is downloaded):

  superjax run resnet_sae \\
    --set model_dirs=converted/resnet18_linf_0,converted/resnet18_l2_1,converted/resnet18_l2_3 \\
    --set model_eps=0,1,3 --set image_dir=/data/imagenet/val

Runtime:   GPU-sized (ImageNet-scale activations); not run on the 2-core CPU.
Expected:  nMSE falls with eps in every stage; L0 adversarial / clean above 1 and rising
           with depth (preprint Figures 5 and 6).
"""

from superjax.zoo_sae.config import ZooSAEConfig

CONFIG = ZooSAEConfig(
    name="resnet_sae",
    description=__doc__,
    source="converted",
    model_dirs=("converted/resnet18_linf_0",),
    model_eps=(0.0,),
    image_dir="imagenet/val",
    images=2000,
    eval_images=500,
    tokens_per_image=16,
    k=(16, 32, 64),
    l1=(10.0, 3.0, 1.0),
    sae_steps=5000,
    attack_eps=4 / 255,
)

"""Image models: a Flax ResNet18 equal to torchvision's, conversion of madrylab and
torchvision checkpoints, image folders, attacks on classifiers, and a zoo of classifiers
trained standard or adversarially through the core loop.

  resnet.py    the model; a converted-model directory (save, load)
  convert.py   PyTorch checkpoints -> a converted-model directory (needs torch)
  images.py    ImageNet-style folders in, activation chunks out; bundled digits
  attacks.py   FGSM, PGD (Linf, L2) and noise on any classifier
  zoo.py       ONE classifier's training step, vmapped over eps and seeds by the loop
"""

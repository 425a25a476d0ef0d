"""Sparse autoencoders, any kind, trained many at once through the core loop.

  kinds/       one module per kind behind one small interface (relu, topk, ...)
  model.py     settings, per-run hyperparameters, the SAE and its standardisation
  dictionary   decoder geometry and reconstruction error shared by every kind
  train.py     ONE SAE's init and step, and the Program the core loop vmaps
  metrics.py   nMSE, explained variance, L0, dead latents on held-out inputs

Nothing here knows where activations come from (a toy model, a ResNet stage).
"""

"""Toy models of superposition: Elhage et al. 2022 and Gorton & Lewis 2025."""

"""Depth and error correction in superposition: Hänni et al. 2024, Theorems 6 and 8."""

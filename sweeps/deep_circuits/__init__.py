"""Depth and error correction in superposition: Hänni et al. 2024, Theorem 8's error correction."""

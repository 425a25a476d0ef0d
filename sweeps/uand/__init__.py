"""Computation in superposition: Hänni et al. 2024, U-AND."""

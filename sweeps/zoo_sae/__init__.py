"""SAEs on a zoo of robust ResNet18s: Gorton & Lewis 2025, Figures 5 and 6."""

"""SAEs on toy models, scored against the known features."""

"""Size limits shared by the models and the params validation (no torch import here)."""

# Longest sequence the sinusoidal position table covers (tokens, special tokens included).
MAX_POSITIONS = 256

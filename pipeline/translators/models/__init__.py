"""Model definitions (nanoGPT-style: top-down, one idea per class, shape comments)."""

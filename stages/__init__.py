"""The entry point of every DVC stage: `python -m stages <study> <stage> [--option value]`."""

"""Reproducible experiments on attention models: data, models, training, tracking, reports."""

"""Raw data parsing, validation, splits and batching."""

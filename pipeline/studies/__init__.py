"""One package per study: its params schema, stages, report section and own modules."""

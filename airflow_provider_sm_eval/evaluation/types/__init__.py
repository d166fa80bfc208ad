"""The evaluation types: one module per type, one table of them (:mod:`.registry`)."""

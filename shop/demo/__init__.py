"""Demo data for the reference store: a deterministic simulated shop."""

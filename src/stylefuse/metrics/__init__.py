"""Registered evaluation metrics (content fidelity, style fidelity, distributions) and the report
writer. ``stylefuse.registry.METRICS.names()`` lists them."""

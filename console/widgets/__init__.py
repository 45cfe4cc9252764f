"""Console widgets, one feature area per module."""

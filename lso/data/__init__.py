"""Data for the learned models: cells as graph tensors (``lso.data.graphs``) and training data sets."""

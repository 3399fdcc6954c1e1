"""Training, evaluation and labeling: reproduces the shipped model from data."""

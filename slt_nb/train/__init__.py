"""Training (notebooks/train.ipynb): config, model inputs, data, the small transformer, the loop, the report."""

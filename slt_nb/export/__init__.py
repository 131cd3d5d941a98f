"""Export (notebooks/export.ipynb): parts and manifest from a registered reader, the report tables, validation."""

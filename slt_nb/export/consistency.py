"""Moved to `slt_nb.formats.manifest` (the consistency check reads manifests, so it lives with them).

Re-exported here for the modules that still import it from the export stage
(`slt_nb.signformer.config`, tests); remove once they import from formats.manifest.
"""
from slt_nb.formats.manifest import (DECIDING, WHY, conflicts, manifest_conflicts,  # noqa: F401  re-export
                                     parameters_table, split_parameters)

"""`python -m slt_nb ...` is the `slt-nb` command."""
import sys

from slt_nb.cli import main

sys.exit(main())

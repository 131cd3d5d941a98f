"""The `slt-nb` command.

    slt-nb run notebooks/inspect.ipynb --datasets How2Sign --splits val   # a matrix of runs
    slt-nb demo                                                           # what `make demo` runs
"""
from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `slt-nb` console script."""
    from slt_nb import demo
    from slt_nb import runner

    parser = argparse.ArgumentParser(prog="slt-nb", description="sign-language pose workbench")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run a notebook over datasets x splits, index in outputs/index.html")
    runner.build_parser(run)
    commands.add_parser("demo", help="run params/demo.yaml's notebooks on the demo data")
    args = parser.parse_args(argv)
    if args.command == "run":
        return runner.main_with_args(args)
    return demo.main()


if __name__ == "__main__":
    sys.exit(main())

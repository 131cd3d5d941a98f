"""The README's commands as the tests run them: parsed out of its code blocks, /data paths swapped for test ones.

Shared by test_readme_commands.py and the session fixture in conftest.py that runs the README's
`slt-nb extract poses ...` once for the tests that read its console and its poses.
"""
import re
import shlex
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "data" / "demo"
# The README's foreign set (a PHOENIX-2014T file) is the demo's: the same kind of file, made the same way.
FOREIGN_SET = DEMO / "Signformer" / "demo512.pami0.dev"


def readme_commands(program: str) -> list[str]:
    """Every command in a README code block that runs `program`, continuation lines joined."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"```[^\n]*\n(.*?)```", text, flags=re.S):
        for command in block.replace("\\\n", " ").splitlines():
            if command.strip().startswith(program):
                commands.append(" ".join(command.split()))
    return commands


SLT_NB_COMMANDS = list(dict.fromkeys(readme_commands(".venv/bin/slt-nb")))


def slt_nb_argv(command: str, tmp_path) -> list[str]:
    """A README `slt-nb` command's arguments (after the program), /data paths replaced by test ones."""
    args = shlex.split(command.split("#")[0])[1:]
    return [str(DEMO / "How2Sign") if a == "/data/How2Sign" else str(tmp_path / "exports") if a == "/data/exports"
            else a.replace("/data/phoenix14t.pami0.dev", str(FOREIGN_SET)) for a in args]


def one_command(prefix: str) -> str:
    """The one README `slt-nb` command that starts with prefix."""
    (command,) = [c for c in SLT_NB_COMMANDS if c.startswith(prefix)]
    return command

"""Reading a Signformer config's YAML without letting the document run away with the machine.

A Signformer config is a few dozen values, a few hundred with long part lists. `ConfigLoader`
is yaml's SafeLoader with two limits checked before anything is built: nested aliases
("billion laughs") expand exponentially when printed or walked, and deep nesting overflows
Python's recursion. `load_config_file` turns every way a file can be unreadable (not UTF-8, not
YAML, too big) into one ConfigError, which the command line prints as one line.
"""
from __future__ import annotations

import os

import yaml

from slt_nb.errors import ConfigError

MAX_VALUES = 100_000
MAX_DEPTH = 100


class ConfigLoader(yaml.SafeLoader):
    """yaml's SafeLoader, refusing documents nested deeper than MAX_DEPTH or whose aliases
    expand to more than MAX_VALUES values, before constructing any of it."""

    def __init__(self, stream):
        super().__init__(stream)
        self.depth = 0

    def compose_node(self, parent, index):
        if self.depth >= MAX_DEPTH:
            mark = self.peek_event().start_mark
            raise ConfigError(f"nested more than {MAX_DEPTH} levels deep at line {mark.line + 1}")
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def get_single_data(self):
        node = self.get_single_node()
        if node is None:
            return None
        _check_expansion(node)
        return self.construct_document(node)


def _check_expansion(root: yaml.Node) -> None:
    """Count the values of the document as if every alias were copied out, without copying."""
    size: dict[int, int] = {}
    open_nodes: set[int] = set()  # the node being counted and its ancestors: an alias to one of them is a loop
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, counted = stack.pop()
        children = [] if isinstance(node, yaml.ScalarNode) else (
            [v for pair in node.value for v in pair] if isinstance(node, yaml.MappingNode) else list(node.value))
        if counted:
            open_nodes.discard(id(node))
            size[id(node)] = 1 + sum(size[id(c)] for c in children)
            if size[id(node)] > MAX_VALUES:
                raise ConfigError(f"the document expands to more than {MAX_VALUES} values through its aliases "
                                  f"(the one at line {node.start_mark.line + 1}); refused before building it")
            continue
        if id(node) in size:
            continue  # an alias to a node already counted
        if id(node) in open_nodes:
            raise ConfigError(f"an alias at line {node.start_mark.line + 1} refers to a value that contains it")
        open_nodes.add(id(node))
        stack.append((node, True))
        stack.extend((c, False) for c in children)


def load_config_file(path: str | os.PathLike):
    """The YAML document in `path`; every way it can be unreadable is a ConfigError."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text (byte {exc.start} is 0x{raw[exc.start]:02x})") from None
    try:
        return yaml.load(text, Loader=ConfigLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1} column {mark.column + 1}: " if mark else ""
        what = "; ".join(str(x) for x in (exc.context, exc.problem) if x)
        raise ConfigError(f"not valid YAML: {where}{what}") from None
    except yaml.YAMLError as exc:
        raise ConfigError("not valid YAML: " + " ".join(str(exc).split())) from None

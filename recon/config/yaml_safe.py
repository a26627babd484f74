"""Parse YAML without letting a small file grow into gigabytes.

A YAML file can name one part many times through anchors and aliases (``&a`` / ``*a``); nested,
ten lines of them stand for billions of values ("billion laughs"), which recon would then validate
and walk. recon's settings and rule files are a few hundred values, so a document is refused when
the file is larger than :data:`MAX_BYTES` or when it stands for more than :data:`MAX_NODES` values
once every alias is expanded. Aliases themselves stay allowed: a recon.yaml may reuse a block.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from recon.errors import ConfigError

MAX_BYTES = 5 * 1024 * 1024  # the largest rules file shipped with recon is a few kilobytes
MAX_NODES = 100_000  # values in a document with every alias expanded; rules files hold < 1,000


class _TooLarge(Exception):
    pass


def _expanded_size(root: yaml.Node) -> int:
    """How many nodes the document has with every alias expanded, counted without expanding.

    An alias is the same node object as its anchor, so each node's size is worked out once; a
    node that contains itself (a recursive alias) is endless and refused.
    """
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            raise _TooLarge("an alias refers to a block that contains it")
        open_nodes.add(key)
        if isinstance(node, yaml.SequenceNode):
            children: list[yaml.Node] = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        else:
            children = []
        total = 1
        for child in children:
            total += size(child)
            if total > MAX_NODES:
                raise _TooLarge(
                    f"with its aliases expanded it holds more than {MAX_NODES:,} values"
                )
        open_nodes.discard(key)
        sizes[key] = total
        return total

    return size(root)


class _BoundedLoader(yaml.SafeLoader):
    """yaml.SafeLoader that measures each document before building Python objects from it."""

    def compose_document(self) -> yaml.Node | None:  # type: ignore[override]
        node = super().compose_document()
        if node is not None:
            _expanded_size(node)
        return node


def load_yaml_file(path: Path) -> Any:
    """Parse a YAML file safely; every problem is a ConfigError naming the file.

    Syntax errors name the line and column; a file too large, or one whose aliases expand past
    the limit, is refused before recon builds or validates anything from it.
    """
    if not path.is_file():
        raise ConfigError(f"{path}: file not found")
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    if max(size, len(raw)) > MAX_BYTES:
        raise ConfigError(
            f"{path}: is {max(size, len(raw)):,} bytes; a recon settings or rules file is at most "
            f"{MAX_BYTES:,} bytes — is this the right file?"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not valid YAML (not UTF-8 text: {exc.reason})") from exc
    try:
        return yaml.load(text, Loader=_BoundedLoader)  # a SafeLoader: no Python objects
    except _TooLarge as exc:
        raise ConfigError(
            f"{path}: refused: {exc} (YAML anchors and aliases, '&name' and '*name', nested "
            "inside each other); write the settings out plainly"
        ) from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid YAML (nested too deeply)") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{path}:{where}: not valid YAML ({exc.problem})") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from exc

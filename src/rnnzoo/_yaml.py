"""The one YAML reader of rnnzoo: plain data only, within limits, duplicate keys an error.

Every YAML file the project reads (run configs, sweep files) goes through `read_yaml`:

- the safe loader (no tags that build Python objects);
- at most `MAX_BYTES` bytes of UTF-8 text;
- at most `MAX_DEPTH` levels of nested lists and mappings (no RecursionError);
- at most `MAX_ALIASES` aliases, and at most `MAX_NODES` values once every alias is expanded
  (an "alias bomb" is refused before anything expands it);
- a key given twice in one mapping is an error naming the key and its line.

Every failure is an `InvalidParameterError` with one line naming the file and what is wrong.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, SequenceNode

from rnnzoo.errors import InvalidParameterError

MAX_BYTES = 1_000_000
MAX_DEPTH = 32
MAX_ALIASES = 1_000
MAX_NODES = 100_000


class _RefusedError(Exception):
    """A limit of the loader was exceeded (message: what, and the limit)."""


class _LimitedLoader(yaml.SafeLoader):
    """`yaml.SafeLoader` that counts nesting and aliases while composing."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        if self.check_event(AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise _RefusedError(f"more than {MAX_ALIASES} aliases")
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _RefusedError(f"lists and mappings nested more than {MAX_DEPTH} deep")
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Node, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                line = key_node.start_mark.line + 1
                try:
                    if key in seen:
                        raise _RefusedError(
                            f"key {key!r} is given twice (lines {seen[key]} and {line})"
                        )
                    seen[key] = line
                except TypeError:
                    continue  # an unhashable key: the base class reports it
        return super().construct_mapping(node, deep=deep)


def _expanded_size(root: Node) -> int:
    """Values in the document once every alias is expanded (stops counting past MAX_NODES)."""
    sizes: dict[int, int] = {}
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        if isinstance(node, SequenceNode):
            children = list(node.value)
        elif isinstance(node, MappingNode):
            children = [part for pair in node.value for part in pair]
        else:
            sizes[id(node)] = 1
            continue
        if not children_done:
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in sizes)
            continue
        sizes[id(node)] = min(MAX_NODES + 1, 1 + sum(sizes[id(child)] for child in children))
    return sizes[id(root)]


def load_yaml(text: str, where: str) -> Any:
    """The plain data of YAML ``text`` within the limits above; ``where`` names it in errors."""
    try:
        loader = _LimitedLoader(text)  # checks that every character is printable
        try:
            root = loader.get_single_node()
            if root is None:
                return None
            if _expanded_size(root) > MAX_NODES:
                raise _RefusedError(f"expands to more than {MAX_NODES} values (through aliases)")
            return loader.construct_document(root)
        finally:
            loader.dispose()
    except _RefusedError as exc:
        raise InvalidParameterError(f"{where} is refused: {exc}") from None
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0]
        raise InvalidParameterError(f"{where} is not valid YAML: {first}") from None
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. a date like 2020-13-45
        raise InvalidParameterError(f"{where} holds a value YAML cannot read: {exc}") from None


def read_yaml(path: str | Path, what: str) -> Any:
    """The plain data of the YAML file ``path``; `InvalidParameterError` names ``what`` (e.g.
    "config file") and the file when it is missing, too large, not UTF-8 text or not YAML."""
    path = Path(path)
    where = f"{what} '{path}'"
    if not path.is_file():
        raise InvalidParameterError(f"{where} does not exist")
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise InvalidParameterError(f"{where} cannot be read: {exc.strerror}") from None
    if len(raw) > MAX_BYTES:
        raise InvalidParameterError(f"{where} is refused: larger than {MAX_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidParameterError(
            f"{where} is not UTF-8 text (byte {exc.start} cannot be decoded)"
        ) from None
    return load_yaml(text, where)

"""Read YAML text as the Pulumi CLI reads a stack file: JSON-like values only, within limits.

The Pulumi CLI (Go ``yaml.v3``) turns a stack file into JSON-like values. This reader keeps
to the same subset and is total: any text ends in a value or a ``LimitError`` with a line.

- values are maps with text keys, lists, text, integers (64-bit), finite floats, booleans, null;
- a YAML 1.1 timestamp (``2024-05-01``) or sexagesimal number (``1:30``) is text, as in the CLI;
  ``yes``/``no``/``on``/``off`` are text (only ``true``/``false`` are booleans);
- aliases and merge keys (``<<``) are expanded; ``!!binary``, ``!!set``, ``!!omap``, ``!!pairs``
  and custom tags are refused, as are non-text map keys and duplicate keys;
- the limits of ``stacks.loading.limits`` bound the file size, nesting depth and expanded size.

Scanning, parsing and composing use libyaml (``yaml.CSafeLoader``) when PyYAML has it.
Messages give the line and column, never the text of a value (it may be a secret).
"""

from __future__ import annotations

import math
import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from stacks.loading.limits import (
    MAX_DEPTH,
    MAX_EXPANDED_CHARS,
    MAX_FILE_BYTES,
    MAX_INTEGER,
    MAX_NODES,
    LimitError,
)

Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_TAG = "tag:yaml.org,2002:"
_TEXT_TAGS = {f"{_TAG}str", f"{_TAG}timestamp", f"{_TAG}value"}
_BOOLEANS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_NULLS = {"", "~", "null", "Null", "NULL"}
_SCALAR_CONSTRUCTOR = yaml.SafeLoader("")  # constructs int and float text the YAML 1.1 way
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)")
"""Integer text that ``construct_yaml_int`` reads as ``int(text)`` (no sign ``+``, underscore,
base prefix, leading zero or sexagesimal part): read without it, it is most of a file's numbers."""


def _located(message: str, node_or_mark: Any) -> LimitError:
    mark = getattr(node_or_mark, "start_mark", node_or_mark)
    if mark is None:
        return LimitError(message)
    return LimitError(message, mark.line + 1, mark.column + 1)


def _check_events(text: str) -> None:
    """Refuse deep nesting and too many nodes before composing (libyaml's parser is a state
    machine; composing and constructing recurse, so depth is checked first)."""
    depth = 0
    for events, event in enumerate(yaml.parse(text, Loader=Loader), 1):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise _located(f"maps and lists nest deeper than {MAX_DEPTH} levels", event.start_mark)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        if events > 2 * MAX_NODES:
            raise _located(f"more than {MAX_NODES:,} values", event.start_mark)


class _Builder:
    """Constructs plain values from composed nodes, expanding aliases within the limits."""

    def __init__(self) -> None:
        self.nodes = 0
        self.chars = 0
        self.open: set[int] = set()

    def value(self, node: Node, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _located(f"more than {MAX_NODES:,} values once aliases are expanded", node)
        if depth > MAX_DEPTH:
            raise _located(f"maps and lists nest deeper than {MAX_DEPTH} levels (through aliases)", node)
        if isinstance(node, ScalarNode):
            return self.scalar(node)
        if id(node) in self.open:
            raise _located("an alias refers to a map or list that contains it", node)
        self.open.add(id(node))
        try:
            if isinstance(node, SequenceNode) and node.tag == f"{_TAG}seq":
                return [self.value(item, depth + 1) for item in node.value]
            if isinstance(node, MappingNode) and node.tag == f"{_TAG}map":
                return self.mapping(node, depth)
        finally:
            self.open.discard(id(node))
        raise _located(f"the tag {node.tag!r} is not supported: config values are plain maps and lists", node)

    def scalar(self, node: ScalarNode) -> Any:
        self.chars += len(node.value)
        if self.chars > MAX_EXPANDED_CHARS:
            raise _located(f"more than {MAX_EXPANDED_CHARS:,} characters once aliases are expanded", node)
        tag, text = node.tag, node.value
        if tag in _TEXT_TAGS:
            return text
        if tag == f"{_TAG}null" and text in _NULLS:
            return None
        if tag == f"{_TAG}bool":
            return _BOOLEANS.get(text, text)  # yes/no/on/off are text, as in the Pulumi CLI
        if tag in (f"{_TAG}int", f"{_TAG}float"):
            return self.number(node)
        raise _located(f"the tag {tag!r} is not supported: values are text, numbers, booleans or null", node)

    def number(self, node: ScalarNode) -> Any:
        if ":" in node.value:  # YAML 1.1 sexagesimal (1:30): text for the Pulumi CLI
            return node.value
        if node.tag == f"{_TAG}int" and _DECIMAL.fullmatch(node.value):  # as the constructor reads it
            number: Any = int(node.value)
        else:
            try:
                number = _SCALAR_CONSTRUCTOR.construct_object(node)
            except (ValueError, yaml.YAMLError):
                raise _located("not a number", node) from None
        if isinstance(number, float) and not math.isfinite(number):
            raise _located("the number is infinite or not a number; JSON has no such value", node)
        if isinstance(number, int) and abs(number) > MAX_INTEGER:
            raise _located(f"the integer is out of range (at most {MAX_INTEGER:,} either side of 0)", node)
        return number

    def mapping(self, node: MappingNode, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        merged: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == f"{_TAG}merge":
                for source in self.merge_sources(value_node, depth):
                    merged = {**source, **merged}  # the first source wins
                continue
            key = self.value(key_node, depth + 1) if isinstance(key_node, ScalarNode) else None
            if not isinstance(key, str):
                raise _located(
                    "a map key must be text (quote it: '1': …); lists, maps, numbers, "
                    "booleans and null are not config keys",
                    key_node,
                )
            if key in result:
                raise _located(f"duplicate key {key!r}", key_node)
            result[key] = self.value(value_node, depth + 1)
        return {**merged, **result}

    def merge_sources(self, node: Node, depth: int) -> list[dict[str, Any]]:
        sources = node.value if isinstance(node, SequenceNode) else [node]
        values = [self.value(source, depth + 1) for source in sources]
        if not all(isinstance(source, MappingNode) for source in sources):
            raise _located("a merge key (<<) takes a map or a list of maps", node)
        return values


def load(data: bytes) -> Any:
    """The value of one YAML document (None for an empty one); raises ``LimitError``."""
    if len(data) > MAX_FILE_BYTES:
        raise LimitError(f"larger than {MAX_FILE_BYTES:,} bytes, the most a stack file may have")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise LimitError(f"not UTF-8 text (byte {error.start:,})") from None
    try:
        _check_events(text)
        loader = Loader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.reader.ReaderError as error:  # a control character: position only, no text
        line = text.count("\n", 0, error.position) + 1
        column = error.position - (text.rfind("\n", 0, error.position) + 1) + 1
        code = ord(error.character) if isinstance(error.character, str) else int(error.character)
        raise LimitError(f"not valid YAML: control character U+{code:04X}", line, column) from None
    except yaml.MarkedYAMLError as error:
        problem = error.problem or error.context or "not valid YAML"
        raise _located(f"not valid YAML: {problem}", error.problem_mark or error.context_mark) from None
    except yaml.YAMLError as error:
        raise LimitError(f"not valid YAML ({type(error).__name__})") from None
    return None if node is None else _Builder().value(node, 1)

"""Reads a configuration file's YAML with limits, so that no input can hang or crash the reader.

Every problem is a :class:`~platform_config.base.ConfigError` of one line naming the file
and, where it is known, the field (``tags.owner``) or the line and column:

* the file is larger than :data:`MAX_FILE_BYTES`, or is not UTF-8 (the field holding the
  first byte that is not, when the rest of the file parses);
* the YAML is invalid (the parser's own problem and position);
* nesting deeper than :data:`MAX_DEPTH` (a ``[[[[...]]]]`` would exhaust Python's stack;
  beyond libyaml's own limit of 1000 levels, libyaml reports it, at a line and column);
* aliases that expand to more than :data:`MAX_VALUES` values (a "billion laughs" bomb:
  a few lines whose expansion never ends, whether while validating or while printing
  the value in an error message), and an alias to a node that contains it;
* a key that is not a string (a list, a mapping, a number, ``null``, ``yes``), or a key
  given twice in one mapping.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import CollectionStartEvent, MappingEndEvent, SequenceEndEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

try:
    from yaml._yaml import CParser as _EventSource
except ImportError:  # pragma: no cover - PyYAML built without libyaml

    class _EventSource(Reader, Scanner, Parser):  # type: ignore[no-redef]  # stands in for CParser
        """PyYAML's Python reader, scanner and parser (slower than libyaml)."""

        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)


from platform_config.base import ConfigError

#: The largest configuration file read (the committed ones are a few KB).
MAX_FILE_BYTES = 1024 * 1024
#: The deepest nesting of lists and mappings (the configuration needs fewer than 10 levels).
MAX_DEPTH = 32
#: The most values a file may hold once its aliases are expanded.
MAX_VALUES = 100_000

#: A list or a mapping, as a node.
_Collection = TypeVar("_Collection", SequenceNode, MappingNode)

_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_KEY_KINDS = {
    "tag:yaml.org,2002:int": "a number",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:bool": "a boolean",
    "tag:yaml.org,2002:null": "null",
    "tag:yaml.org,2002:timestamp": "a date",
}


class _ComposeError(Exception):
    """A problem found while composing, at a field path or a position."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(message)
        self.where = where
        self.message = message


class _BoundedLoader(_EventSource, Composer, SafeConstructor, Resolver):
    """A safe loader that tracks the field path and bounds depth and alias expansion.

    libyaml (``CParser``, where PyYAML has it) scans and parses; the composition into nodes is PyYAML's own
    (Python) composer with the bounds added, and construction is ``SafeConstructor``'s:
    the result is what ``yaml.safe_load`` returns, ten times faster than PyYAML's Python
    parser.
    """

    def __init__(self, stream: str) -> None:
        _EventSource.__init__(self, stream)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self._path: list[str | int] = []
        self._sizes: dict[int, int] = {}
        self._open: set[int] = set()

    # The composer's, not libyaml's: libyaml's would bypass the bounds below.
    get_single_node = Composer.get_single_node
    get_node = Composer.get_node
    check_node = Composer.check_node

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        if len(self._path) > MAX_DEPTH:
            raise _ComposeError(
                self._where(),
                f"is nested deeper than {MAX_DEPTH} levels of lists and mappings",
            )
        node = super().compose_node(parent, index)
        assert node is not None  # None only at the end of the stream, never inside a document
        if id(node) in self._open:
            raise _ComposeError(self._where(), "is an alias to a list or mapping that contains it")
        self._sizes[id(node)] = size = self._expanded_size(node)
        if size > MAX_VALUES:
            raise _ComposeError(
                self._where(),
                f"expands (through aliases) to more than {MAX_VALUES} values;"
                " write the values out or use fewer aliases",
            )
        return node

    def _expanded_size(self, node: Node) -> int:
        if isinstance(node, SequenceNode):
            return 1 + sum(self._sizes[id(child)] for child in node.value)
        if isinstance(node, MappingNode):
            return 1 + sum(self._sizes[id(k)] + self._sizes[id(v)] for k, v in node.value)
        return 1

    def compose_sequence_node(self, anchor: str | None) -> SequenceNode:  # type: ignore[override]  # types-PyYAML types the anchor as a dict; PyYAML passes its name
        node = self._open_collection(SequenceNode, anchor)
        index = 0
        while not self.check_event(SequenceEndEvent):
            self._path.append(index)
            node.value.append(self.compose_node(node, index))
            self._path.pop()
            index += 1
        return self._close_collection(node)

    def compose_mapping_node(self, anchor: str | None) -> MappingNode:  # type: ignore[override]  # types-PyYAML types the anchor as a dict; PyYAML passes its name
        node = self._open_collection(MappingNode, anchor)
        seen: set[str] = set()
        while not self.check_event(MappingEndEvent):
            self._path.append("?")
            key = self.compose_node(node, None)
            self._path.pop()
            self._path.append(self._key_text(key, seen))
            value = self.compose_node(node, key)
            self._path.pop()
            node.value.append((key, value))
        return self._close_collection(node)

    def _open_collection(self, kind: type[_Collection], anchor: str | None) -> _Collection:
        """The empty node of the collection whose start event is next, as PyYAML's composer
        makes it (tag resolved, registered under its anchor), marked open until it is closed."""
        start = self.get_event()
        assert isinstance(start, CollectionStartEvent)  # the composer checked for one
        tag = start.tag
        if tag is None or tag == "!":
            tag = self.resolve(kind, None, start.implicit)  # type: ignore[no-untyped-call]  # types-PyYAML leaves resolve untyped
        node = kind(tag, [], start.start_mark, None, flow_style=start.flow_style)
        if anchor is not None:
            self.anchors[anchor] = node
        self._open.add(id(node))
        return node

    def _close_collection(self, node: _Collection) -> _Collection:
        """``node``, closed by the end event that is next."""
        self._open.discard(id(node))
        end = self.get_event()
        assert end is not None  # the end event the loop stopped at
        node.end_mark = end.end_mark
        return node

    def _key_text(self, key: Node, seen: set[str]) -> str:
        """The key as a field name; a key that is not a string, or repeated, is refused."""
        if isinstance(key, ScalarNode) and key.tag == _MERGE:
            return "<<"
        if not isinstance(key, ScalarNode) or key.tag != _STR:
            if isinstance(key, ScalarNode):
                kind = _KEY_KINDS.get(key.tag, "not a string")
                shown = f"{key.value!r}"[:40]
                message = f"has the key {shown}, read as {kind}; keys must be strings (quote it)"
            else:
                kind = "a list" if isinstance(key, SequenceNode) else "a mapping"
                message = f"has a key that is {kind}; keys must be strings (field names)"
            raise _ComposeError(self._where(), f"{message} (line {key.start_mark.line + 1})")
        if key.value in seen:
            raise _ComposeError(
                self._where(),
                f"key {key.value[:40]!r} is given twice in the same mapping (line"
                f" {key.start_mark.line + 1}); give each key once",
            )
        seen.add(key.value)
        return str(key.value)

    def _where(self) -> str:
        return field_path(self._path) or "(top level)"


def field_path(parts: list[str | int]) -> str:
    """``['models', 0, 'name']`` -> ``models[0].name``; a very long path is cut in the middle."""
    if len(parts) > 8:
        parts = [*parts[:4], "...", *parts[-2:]]
    text = ""
    for part in parts:
        if part == "...":
            text += "..."
            continue
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def read_yaml(path: Path, shown: str) -> Any:
    """The data of the YAML file ``path``; ``shown`` is how error messages name the file.

    Raises
    ------
    ConfigError
        One line naming the file and the field (or line and column), see the module.
    """
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ConfigError(
                f"{shown}: is {size} bytes; a configuration file may have at most"
                f" {MAX_FILE_BYTES} bytes"
            )
        raw = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"{shown}: cannot be read ({error.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(_not_utf8(raw, error, shown)) from None
    return _parse(text, shown)


def _parse(text: str, shown: str) -> Any:
    try:
        loader = _BoundedLoader(text)  # checks that every character is printable
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except _ComposeError as problem:
        raise ConfigError(f"{shown}: {problem.where}: {problem.message}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{shown}: {_yaml_problem(error, text)}") from None


def _not_utf8(raw: bytes, error: UnicodeDecodeError, shown: str) -> str:
    """The line for a byte that is not UTF-8, naming its field when the rest parses."""
    line = raw[: error.start].count(b"\n") + 1
    column = error.start - (raw.rfind(b"\n", 0, error.start) + 1) + 1
    what = f"byte 0x{raw[error.start : error.start + 1].hex()} (line {line}, column {column})"
    try:
        data = _parse(raw.decode("utf-8", errors="replace"), shown)
    except ConfigError:
        data = None
    path = _path_of_replacement(data)
    where = field_path(path) if path else f"line {line}, column {column}"
    return f"{shown}: {where or '(top level)'}: {what} is not UTF-8 (save the file as UTF-8)"


def _path_of_replacement(data: Any) -> list[str | int] | None:
    """Where the first U+FFFD (an undecodable byte, replaced) is in ``data``, if anywhere."""
    pending: list[tuple[list[str | int], Any]] = [([], data)]
    while pending:
        path, value = pending.pop(0)
        if isinstance(value, str) and "\ufffd" in value:
            return path
        if isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, str) and "\ufffd" in key:
                    return path
                pending.append(([*path, str(key)], item))
        elif isinstance(value, list):
            pending.extend(([*path, index], item) for index, item in enumerate(value))
    return None


def _yaml_problem(error: yaml.YAMLError, text: str) -> str:
    mark = getattr(error, "problem_mark", None)
    position = getattr(error, "position", None)
    if mark is not None:
        where = f"line {mark.line + 1}, column {mark.column + 1}: "
    elif isinstance(position, int):
        line = text.count("\n", 0, position) + 1
        where = f"line {line}, column {position - (text.rfind(chr(10), 0, position) + 1) + 1}: "
    else:
        where = ""
    problem = getattr(error, "problem", None) or getattr(error, "reason", None)
    problem = problem or (str(error).splitlines() or ["unknown problem"])[0]
    return f"{where}invalid YAML: {problem}"

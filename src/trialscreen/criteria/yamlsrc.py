"""Read YAML safely and keep the line and column of every key and item.

PyYAML's SafeLoader composes the document into a node tree that carries marks;
we convert that tree ourselves into dicts and lists that remember where each
key and item came from, so every validation problem can name file:line:column.
Only the standard scalar tags are constructed; any other tag (``!!python/...``)
is an error, never code. Anchors and aliases are allowed only up to a node
budget, so an alias bomb is refused instead of exhausting memory.
"""

from __future__ import annotations

import re

import yaml

from trialscreen.errors import Location, Problem
from trialscreen.textio import MAX_BYTES  # the one size limit of every input

MAX_NODES = 200_000
MAX_DEPTH = 64

_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"


class LMap(dict):
    """A mapping that remembers where it and each of its keys stand."""

    pos: tuple[int, int]
    key_pos: dict
    value_pos: dict

    def where(self, key=None) -> tuple[int, int]:
        if key is None:
            return self.pos
        return self.value_pos.get(key, self.key_pos.get(key, self.pos))

    def where_key(self, key) -> tuple[int, int]:
        return self.key_pos.get(key, self.pos)


class LList(list):
    """A list that remembers where it and each of its items stand."""

    pos: tuple[int, int]
    item_pos: list

    def where(self, index=None) -> tuple[int, int]:
        if index is None:
            return self.pos
        return self.item_pos[index]


def _mark(node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    def __init__(self, file: str, loader: yaml.SafeLoader):
        self.file = file
        self.loader = loader
        self.count = 0
        self.problems: list[Problem] = []

    def problem(self, pos, message, hint=""):
        self.problems.append(Problem(Location(self.file, pos[0], pos[1]), message, hint))

    def build(self, node, depth=0):
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooBig(_mark(node), f"the document expands to more than {MAX_NODES} nodes")
        if depth > MAX_DEPTH:
            raise _TooBig(_mark(node), f"the document nests deeper than {MAX_DEPTH} levels")
        if isinstance(node, yaml.ScalarNode):
            if node.tag not in _SCALAR_TAGS:
                self.problem(_mark(node), f"the YAML tag '{node.tag}' is not allowed",
                             "criteria files hold plain data only; remove the tag")
                return None
            try:
                return self.loader.construct_object(node, deep=True)
            except yaml.YAMLError as exc:  # e.g. an invalid timestamp
                self.problem(_mark(node), f"cannot read this value: {exc}")
                return None
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ_TAG:
                self.problem(_mark(node), f"the YAML tag '{node.tag}' is not allowed",
                             "criteria files hold plain data only; remove the tag")
                return None
            out = LList()
            out.pos = _mark(node)
            out.item_pos = []
            for item in node.value:
                out.append(self.build(item, depth + 1))
                out.item_pos.append(_mark(item))
            return out
        if isinstance(node, yaml.MappingNode):
            if node.tag != _MAP_TAG:
                self.problem(_mark(node), f"the YAML tag '{node.tag}' is not allowed",
                             "criteria files hold plain data only; remove the tag")
                return None
            out = LMap()
            out.pos = _mark(node)
            out.key_pos = {}
            out.value_pos = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    self.problem(_mark(key_node), "YAML merge keys ('<<') are not supported",
                                 "write the keys out")
                    continue
                key = self.build(key_node, depth + 1)
                if isinstance(key, (LMap, LList)):
                    self.problem(_mark(key_node), "a mapping key must be a plain value")
                    continue
                if key in out:
                    first = out.key_pos[key]
                    self.problem(_mark(key_node), f"duplicate key '{key}'",
                                 f"it is already defined at line {first[0]}")
                    continue
                out[key] = self.build(value_node, depth + 1)
                out.key_pos[key] = _mark(key_node)
                out.value_pos[key] = _mark(value_node)
            return out
        raise AssertionError(f"unexpected YAML node {node!r}")  # pragma: no cover


class _TooBig(Exception):
    def __init__(self, pos, message):
        self.pos = pos
        self.message = message






_TOKENS = re.compile(r"\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\n]|'')*'|[\[\]{}]")


def too_deep(text: str, limit: int) -> int | None:
    """The offset where the document first nests deeper than ``limit`` (flow
    brackets, or indentation levels), or None. Measured before parsing: the C
    parser recurses on the C stack and would crash on a document nested a
    hundred thousand levels deep."""
    depth = 0
    for m in _TOKENS.finditer(text):
        ch = m.group(0)
        if ch in "[{":
            depth += 1
            if depth > limit:
                return m.start()
        elif ch in "]}":
            depth = max(depth - 1, 0)
    indents = [0]
    offset = 0
    for line in text.splitlines(keepends=True):
        stripped = line.lstrip(" ")
        width = len(line) - len(stripped)
        if stripped.strip() and not stripped.startswith("#"):
            while width < indents[-1]:
                indents.pop()
            if width > indents[-1]:
                indents.append(width)
            if len(indents) - 1 > limit:
                return offset + width
        offset += len(line)
    return None


def _where(file: str, text: str, position: int) -> Location:
    line = text.count("\n", 0, position) + 1
    return Location(file, line, position - (text.rfind("\n", 0, position) + 1) + 1)


def load_yaml(text: str, file: str) -> tuple[object, list[Problem]]:
    """Parse one YAML document; return (data, problems).

    Syntax errors come back as a single problem with the parser's position.
    """
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        return None, [Problem(Location(file), f"the file is larger than {MAX_BYTES // 1_000_000} MB",
                              "split it or check that it is the right file")]
    if text.startswith("\ufeff"):
        text = text[1:]
    deep = too_deep(text, MAX_DEPTH)
    if deep is not None:
        return None, [Problem(_where(file, text, deep), f"the document nests deeper than {MAX_DEPTH} levels",
                              "remove the aliases or nesting that make it grow")]
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)  # libyaml keeps the marks too
    try:
        node = loader.get_single_node()
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow (control characters)
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        return None, [Problem(_where(file, text, exc.position),
                              f"YAML syntax error: {exc.reason}", f"remove the character #x{code:04x}")]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)
        what = exc.problem or exc.context or "invalid YAML"
        if exc.context and what.startswith("but "):  # "but found another document" needs its context
            what = f"{exc.context} {what}"
        hint = ("put one trial in each file" if "single document" in what
                else "check indentation and quoting")
        return None, [Problem(pos, f"YAML syntax error: {what}", hint)]
    except yaml.YAMLError as exc:
        return None, [Problem(Location(file), f"YAML error: {exc}")]
    finally:
        loader.dispose()
    if node is None:
        return None, [Problem(Location(file, 1, 1), "the file is empty",
                              "a criteria file needs at least id, title and inclusion")]
    builder = _Builder(file, loader)
    try:
        data = builder.build(node)
    except _TooBig as exc:
        return None, [Problem(Location(file, *exc.pos), exc.message,
                              "remove the aliases or nesting that make it grow")]
    return data, builder.problems

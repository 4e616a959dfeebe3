"""Article files' front matter: split from the body and parsed with line numbers, and written.

PyYAML is used at the node level so every key and value keeps its position; python-frontmatter
and MkDocs both lose it. Timestamps are not resolved by YAML: dates stay strings so an impossible
date becomes an editor-facing problem rather than a `ValueError` deep inside PyYAML.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from generator.content.problems import Problem

FENCE = "---"


class _PlainLoader(yaml.SafeLoader):
    """SafeLoader without implicit timestamps: dates reach us as the text the editor wrote."""


class _FastPlainLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The same with libyaml's parser, when PyYAML has it: the same nodes and marks, many
    times faster. Its error messages are terser, so a file it rejects is parsed again by
    _PlainLoader for the message editors see."""


_PlainLoader.yaml_implicit_resolvers = _FastPlainLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@dataclass(frozen=True)
class Field:
    value: Any
    line: int
    col: int
    key_line: int
    key_col: int


@dataclass
class Source:
    path: str
    fields: dict[str, Field]
    body: str
    body_line: int
    problems: list[Problem] = field(default_factory=list)

    def at(self, message: str, key: str | None = None, hint: str = "", warning: bool = False):
        """A problem located at a key's value (or the opening fence when the key is absent)."""
        f = self.fields.get(key) if key else None
        line, col = (f.line, f.col) if f else (1, 1)
        return Problem(self.path, line, col, message, hint, warning)


def read_text(path: str, data: bytes) -> tuple[str | None, list[Problem]]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        bad = data[exc.start : exc.start + 1].hex()
        msg = f"file is not valid UTF-8 (byte 0x{bad})"
        return None, [Problem(path, line, col, msg, "save the file with UTF-8 encoding")]
    return text.removeprefix("\ufeff").replace("\r\n", "\n"), []


def split_front_matter(path: str, text: str) -> tuple[Source | None, list[Problem]]:
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != FENCE:
        hint = "start the file with a '---' line, the front matter, then '---'"
        return None, [Problem(path, 1, 1, "no front matter", hint)]
    end = 0
    for end, line in enumerate(lines[1:], start=1):  # noqa: B007 (end is used below)
        if line.rstrip() in (FENCE, "..."):
            break
    else:
        return None, [Problem(path, 1, 1, "front matter is not closed", "add a '---' line")]
    yaml_text = "\n".join(lines[1:end]) + "\n"
    body = "\n".join(lines[end + 1 :])
    fields, problems = parse_fields(path, yaml_text)
    if fields is None:
        return None, problems
    return Source(path, fields, body, end + 2, problems), []


def parse_fields(
    path: str, yaml_text: str, offset: int = 1, what: str = "front matter"
) -> tuple[dict[str, Field] | None, list[Problem]]:
    """Parse a YAML mapping; `offset` is the number of lines before the YAML starts and
    `what` names it in messages."""
    try:
        return _parse_fields(_FastPlainLoader(yaml_text), path, offset, what)
    except yaml.MarkedYAMLError:
        return _parse_fields(_PlainLoader(yaml_text), path, offset, what)


def _parse_fields(
    loader: Any, path: str, offset: int, what: str
) -> tuple[dict[str, Field] | None, list[Problem]]:
    fast = not isinstance(loader, _PlainLoader)
    try:
        node = loader.get_single_node()
        if node is None:
            return {}, []
        if not isinstance(node, yaml.MappingNode):
            kind = {yaml.SequenceNode: "a list"}.get(type(node), "a single value")
            msg = f"{what} must be a mapping of keys to values, not {kind}"
            return None, [_problem_at(path, node.start_mark, msg, offset=offset)]
        return _fields_of(path, loader, node, offset)
    except yaml.MarkedYAMLError as exc:
        if fast:
            raise
        mark = exc.problem_mark or exc.context_mark
        return None, [_problem_at(path, mark, f"YAML syntax error: {exc.problem}", offset=offset)]
    finally:
        loader.dispose()


def _fields_of(
    path: str, loader: _PlainLoader, node: yaml.MappingNode, offset: int
) -> tuple[dict[str, Field], list[Problem]]:
    fields: dict[str, Field] = {}
    problems: list[Problem] = []
    for key_node, value_node in node.value:
        key = str(key_node.value)
        k, v = key_node.start_mark, value_node.start_mark
        if key in fields:
            first = fields[key].key_line
            msg = f"duplicate key '{key}' (first given on line {first})"
            problems.append(_problem_at(path, k, msg, "keep one of them", offset))
            continue
        value = loader.construct_object(value_node, deep=True)
        fields[key] = Field(
            value, v.line + 1 + offset, v.column + 1, k.line + 1 + offset, k.column + 1
        )
    return fields, problems


def _problem_at(path: str, mark: Any, message: str, hint: str = "", offset: int = 1) -> Problem:
    # Marks are 0-based; the YAML starts `offset` lines into the file.
    line = mark.line + 1 + offset if mark else 1
    col = mark.column + 1 if mark else 1
    return Problem(path, line, col, message, hint)


def format_front_matter(meta: Mapping[str, object], body: str) -> str:
    """The text of a Markdown file: `meta` as YAML between '---' lines, then `body`.

    Keys keep the order given. Aware datetimes are written as YAML timestamps with their
    offset, so a reader (Material's blog plugin) gets the same moment back, never a naive one.
    """
    yaml_text = yaml.dump(
        dict(meta),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=10**6,
    )
    return f"{FENCE}\n{yaml_text}{FENCE}\n\n{body}"

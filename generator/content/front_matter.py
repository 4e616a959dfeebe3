"""Article files' front matter: split from the body and parsed with line numbers, and written.

python-frontmatter's handler API does the splitting and writing, with handlers of our own:
YAML (`---`), and for editors coming from Hugo or Zola TOML (`+++`) and JSON (`{ … }`). The YAML
handler reads PyYAML at the node level, so every key and value keeps its position (the stock
handler loses it), and leaves timestamps unresolved: dates stay the text the editor wrote, so an
impossible date is an editor-facing problem rather than a `ValueError` deep inside PyYAML.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import frontmatter
import yaml
from frontmatter.default_handlers import BaseHandler, YAMLHandler

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


class NotClosed(Exception):
    """The front matter's closing line is missing."""


class Fields(dict[str, "Field"]):
    """Parsed front matter: each key's value and place, and what was wrong with it."""

    def __init__(self, fields: dict[str, Field], problems: list[Problem]) -> None:
        super().__init__(fields)
        self.problems = problems


class _Positioned(BaseHandler):
    """A handler that splits at exact lines (the opening one is line 1) and loads `Fields`."""

    CLOSING: tuple[str, ...] = ()
    path = ""
    body_line = 0  # set by split: the file's line where the body starts

    def for_file(self, path: str) -> _Positioned:
        handler = type(self)()
        handler.path = path
        return handler

    def split(self, text: str) -> tuple[str, str]:
        lines = text.split("\n")
        for end, line in enumerate(lines[1:], start=1):
            if line.rstrip() in self.CLOSING:
                self.body_line = end + 2
                return "\n".join(lines[1:end]) + "\n", "\n".join(lines[end + 1 :])
        raise NotClosed(self.CLOSING[0])


class YAMLFrontMatter(_Positioned, YAMLHandler):
    FM_BOUNDARY = re.compile(r"^---[ \t]*$", re.MULTILINE)
    CLOSING = (FENCE, "...")

    def load(self, fm: str, **kwargs: object) -> Fields:
        fields, problems = parse_fields(self.path, fm)
        if fields is None:
            raise Unreadable(problems)
        return Fields(fields, problems)

    def export(self, metadata: dict[str, object], **kwargs: object) -> str:
        return yaml.dump(
            dict(metadata),
            Dumper=_Dumper,
            sort_keys=False,
            allow_unicode=True,
            default_flow_style=False,
            width=10**6,
        )

    def format(self, post: frontmatter.Post, **kwargs: object) -> str:
        # The stock format strips the text; generated pages keep their final newline.
        return f"{FENCE}\n{self.export(post.metadata)}{FENCE}\n\n{post.content}"


class TOMLFrontMatter(_Positioned):
    """Hugo's and Zola's `+++` front matter (read with the standard library's tomllib)."""

    FM_BOUNDARY = re.compile(r"^\+\+\+[ \t]*$", re.MULTILINE)
    CLOSING = ("+++",)

    def load(self, fm: str, **kwargs: object) -> Fields:
        try:
            values = tomllib.loads(fm)
        except tomllib.TOMLDecodeError as exc:
            line, col = _toml_place(str(exc))
            message = f"TOML syntax error: {str(exc).split(' (at ')[0]}"
            raise Unreadable([Problem(self.path, line + 1, col, message)]) from exc
        return Fields(_placed(values, fm, r"^[ \t]*{key}[ \t]*=[ \t]*"), [])


class JSONFrontMatter(_Positioned):
    """Hugo's JSON front matter: an object from a `{` line to a `}` line."""

    FM_BOUNDARY = re.compile(r"^\{[ \t]*$", re.MULTILINE)
    CLOSING = ("}",)

    def split(self, text: str) -> tuple[str, str]:
        fm, body = super().split(text)
        return "{\n" + fm + "}\n", body  # keeps the lines where they are in the file

    def load(self, fm: str, **kwargs: object) -> Fields:
        try:
            values = json.loads(fm)
        except json.JSONDecodeError as exc:
            raise Unreadable(
                [Problem(self.path, exc.lineno, exc.colno, f"JSON syntax error: {exc.msg}")]
            ) from exc
        if not isinstance(values, dict):
            raise Unreadable([Problem(self.path, 1, 1, "front matter must be a JSON object")])
        return Fields(_placed(values, fm[2:], r'^[ \t]*"{key}"[ \t]*:[ \t]*'), [])


HANDLERS: tuple[_Positioned, ...] = (YAMLFrontMatter(), TOMLFrontMatter(), JSONFrontMatter())


class Unreadable(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


def _toml_place(message: str) -> tuple[int, int]:
    found = re.search(r"\(at line (\d+), column (\d+)\)", message)
    return (int(found[1]), int(found[2])) if found else (0, 1)


def _placed(values: dict[str, Any], fm: str, key_pattern: str) -> dict[str, Field]:
    """Fields for formats whose parsers give no positions: each top-level key is found at
    the first line that assigns it (lines count from the one after the opening line)."""
    lines = fm.split("\n")
    fields = {}
    for key, value in values.items():
        pattern = re.compile(key_pattern.format(key=re.escape(key)))
        at = next(((n, m) for n, line in enumerate(lines) if (m := pattern.match(line))), None)
        line, key_col, col = (
            (at[0] + 2, at[1].group().find(key[:1]) + 1, at[1].end() + 1) if at else (1, 1, 1)
        )
        fields[key] = Field(value, line, col, line, max(key_col, 1))
    return fields


def split_front_matter(path: str, text: str) -> tuple[Source | None, list[Problem]]:
    handler = next((h for h in HANDLERS if h.detect(text)), None)
    if handler is None:
        hint = "start the file with a '---' line, the front matter, then '---'"
        return None, [Problem(path, 1, 1, "no front matter", hint)]
    handler = handler.for_file(path)
    try:
        fm, body = handler.split(text)
    except NotClosed as exc:
        return None, [Problem(path, 1, 1, "front matter is not closed", f"add a '{exc}' line")]
    try:
        fields = handler.load(fm)
    except Unreadable as exc:
        return None, exc.problems
    return Source(path, dict(fields), body, handler.body_line, fields.problems), []


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
    return frontmatter.dumps(frontmatter.Post(body, **dict(meta)), handler=HANDLERS[0])

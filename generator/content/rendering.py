"""Markdown to HTML with the site's own configuration, and the word count behind read time.

The extensions and their options come from `markdown_extensions` in mkdocs.yml, read once per
site, plus the ones MkDocs always adds (toc, tables, fenced_code): feeds and the digest render
an article exactly as its page does. One parser is reused: building a Markdown instance is
more work than converting an article.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import math
import os
import re
import threading
from functools import cached_property
from html import unescape
from pathlib import Path
from typing import Any

import markdown
import yaml

from generator.content.installed import installed_distributions
from generator.errors import PressError

MORE = "<!-- more -->"
WORDS_PER_MINUTE = 265  # Material's default, so page and digest agree
MKDOCS_BUILTINS = ("toc", "tables", "fenced_code")  # what MkDocs adds to every site


class MarkdownConfigError(PressError, ValueError):
    """mkdocs.yml's markdown_extensions cannot be used; the message says which, and where."""

    def __init__(self, message: str, line: int = 1, col: int = 1) -> None:
        super().__init__(message)
        self.line, self.col = line, col


class MarkdownRenderer:
    def __init__(self, extensions: list[str], configs: dict[str, dict[str, Any]]) -> None:
        self.extensions, self.configs = extensions, configs
        self.conversions = 0  # how many texts this renderer converted: the render-once check
        self._local = threading.local()  # a Markdown instance is not safe to share by threads

    @classmethod
    def from_mkdocs_config(cls, path: Path) -> MarkdownRenderer:
        extensions, configs = markdown_settings(read_mkdocs_yaml(path))
        return cls(extensions, configs)

    def convert(self, text: str) -> str:
        return self.render(text)[0]

    def render(self, text: str) -> tuple[str, list[dict[str, Any]]]:
        """HTML and the table-of-contents tokens of its headings (what MkDocs' toc reads)."""
        parser = self._parser()
        self.conversions += 1
        html = parser.reset().convert(text)
        return html, getattr(parser, "toc_tokens", [])

    def _parser(self) -> markdown.Markdown:
        parser = getattr(self._local, "parser", None)
        if parser is None:
            try:
                parser = markdown.Markdown(
                    extensions=self.extensions, extension_configs=self.configs
                )
            except (ImportError, TypeError, ValueError, KeyError) as exc:
                raise MarkdownConfigError(f"markdown_extensions in mkdocs.yml: {exc}") from exc
            self._local.parser = parser
        return parser

    @cached_property
    def fingerprint(self) -> str:
        """Changes when anything that shapes the HTML changes: the extensions, their options,
        and the installed packages (those that provide them among them: any upgrade converts
        the articles once more, as it rebuilds the whole site)."""
        setup = {
            "extensions": self.extensions,
            "configs": self.configs,
            "versions": sorted(installed_distributions()),
        }
        text = json.dumps(setup, sort_keys=True, default=_stable_name)
        return hashlib.sha256(text.encode()).hexdigest()


def _stable_name(value: Any) -> str:
    # Options may hold functions (custom fences): their import name, never their address.
    name = getattr(value, "__qualname__", None) or type(value).__qualname__
    return f"{getattr(value, '__module__', '')}.{name}"


def markdown_settings(config: dict[str, Any]) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """Extension names and options as MkDocs reads them: a list of names or {name: options}."""
    names = list(MKDOCS_BUILTINS)
    configs: dict[str, dict[str, Any]] = {}
    for item in config.get("markdown_extensions") or []:
        if isinstance(item, str):
            name, options = item, {}
        elif isinstance(item, dict) and len(item) == 1:
            name, options = next(iter(item.items()))
        else:
            raise MarkdownConfigError(f"markdown_extensions: cannot read {item!r}")
        if name not in names:
            names.append(name)
        if options:
            configs[name] = dict(options)
    return names, configs


class _MkDocsYamlLoader(yaml.SafeLoader):
    """Reads mkdocs.yml's tags the way MkDocs does, for the parts a Markdown setup uses."""


def _python_name(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    module, _, name = suffix.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _environment(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    names = (
        loader.construct_sequence(node)
        if isinstance(node, yaml.SequenceNode)
        else [loader.construct_scalar(node)]
    )
    *variables, default = names if len(names) > 1 else [*names, None]
    return next((os.environ[v] for v in variables if v in os.environ), default)


_MkDocsYamlLoader.add_multi_constructor("tag:yaml.org,2002:python/name:", _python_name)
_MkDocsYamlLoader.add_constructor("!ENV", _environment)
_MkDocsYamlLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def read_mkdocs_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise MarkdownConfigError("file is missing") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise MarkdownConfigError(f"cannot read the file: {exc}") from exc
    try:
        data = yaml.load(text, Loader=_MkDocsYamlLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise MarkdownConfigError(f"YAML syntax error: {exc.problem}", line, col) from exc
    except (yaml.YAMLError, ImportError, AttributeError) as exc:
        raise MarkdownConfigError(f"cannot read the file: {exc}") from exc
    return data if isinstance(data, dict) else {}


def plain_text(html: str) -> str:
    """Visible text of an HTML fragment, whitespace collapsed."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S | re.I)
    text = re.sub(r"<[^>]+>", " ", text)
    return re.sub(r"\s+", " ", unescape(text)).strip()


def read_time_minutes(html: str, images: int = 0) -> int:
    words = len(re.findall(r"\w+", plain_text(html)))
    return max(1, math.ceil(words / WORDS_PER_MINUTE + images * 10 / 60))


def shorten(text: str, limit: int) -> str:
    """Cut at a word boundary and add an ellipsis when the text is longer than `limit`."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:.")
    return cut + "…"

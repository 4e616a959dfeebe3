"""MkDocs adapter: builds and serves the site with MkDocs (the plugin, plugin.py, does the rest).

What goes beyond MkDocs' documented API is in mkdocs_seam.py, with a test for each name.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import jinja2

from generator.errors import PressError
from generator.site.mkdocs_seam import own_plugins
from generator.site.options import BuildOptions


class RenderError(PressError):
    """MkDocs refused to build; the message says why, without a traceback."""


def render_site(root: Path, out_dir: Path, options: BuildOptions, strict: bool = True) -> None:
    """Run a real `mkdocs build` of the project into `out_dir`."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    _quiet_mkdocs_logs()
    try:
        with own_plugins({}):
            config = load_config(str(root / "mkdocs.yml"), site_dir=str(out_dir), strict=strict)
        plugin = press_plugin(config)
        plugin.options = options
        config.plugins.on_startup(command="build", dirty=False)
        try:
            with _pages_across(plugin, options.jobs):
                build(config)
        finally:
            config.plugins.on_shutdown()
    except MkDocsException as exc:
        raise RenderError(str(exc)) from exc
    except SystemExit as exc:  # MkDocs' Abort on warnings under --strict
        raise RenderError(f"mkdocs build aborted ({exc})") from exc
    except jinja2.TemplateError as exc:  # a mistake in the project's own templates
        raise RenderError(f"template {type(exc).__name__}: {exc}") from exc
    # Anything else (an AttributeError after an upgrade of MkDocs or Material, say) is not the
    # user's: it reaches the crash report with its traceback (cli/errors.py).


@contextmanager
def _pages_across(plugin: Any, jobs: int) -> Iterator[None]:
    if jobs <= 1:
        yield
        return
    from generator.site.parallel_pages import PageWriter, pages_deferred

    plugin.page_writer = PageWriter(jobs)
    try:
        with pages_deferred(plugin.page_writer):
            yield
    finally:
        plugin.page_writer = None


def serve_site(root: Path, options: BuildOptions, host: str, port: int) -> None:
    """Live preview: built once, then after each save only what depends on it is rendered
    again (live.py), and the browser reloads."""
    import shutil
    import tempfile

    from mkdocs.livereload import LiveReloadServer

    from generator.site.live import WATCHED, LiveSite
    from generator.site.watching import changes_observer

    # Checked at once, not after a first build that can take a while, and held meanwhile:
    # another program given a free port in those seconds could take this one.
    reserved = _reserve_port(host, port)
    site_dir = Path(tempfile.mkdtemp(prefix="press-serve-"))
    live = LiveSite(root, options, site_dir, f"http://{host}:{port}/")
    try:
        live.start(jobs=len(os.sched_getaffinity(0)))
        # Told of saves by the kernel (watching.py); where it cannot be, polled every 0.1 s
        # rather than MkDocs' 0.5 s.
        server = LiveReloadServer(
            builder=partial(_update_reporting, live),
            host=host,
            port=port,
            root=str(site_dir),
            mount_path=live.mount_path,
            polling_interval=0.1,
        )
        server.error_handler = partial(_error_page, site_dir)
        watched = [root / name for name in WATCHED if (root / name).exists()]
        server.observer = changes_observer(watched, polling_interval=0.1)
        # The quiet MkDocs waits for after a change before it builds (0.1 s): an editor's
        # save is over in a few milliseconds.
        server.build_delay = 0.05
        for path in watched:
            server.watch(str(path))
        reserved.close()  # the server binds it now
        try:
            server.serve()
        except KeyboardInterrupt:
            pass
        finally:
            server.shutdown()
    finally:
        reserved.close()
        live.stop()
        shutil.rmtree(site_dir, ignore_errors=True)


def _reserve_port(host: str, port: int) -> Any:
    """A socket bound where the server will listen (it binds the same way); OSError when it
    could not."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    probe = socket.socket(family, socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
    except OSError:
        probe.close()
        raise
    return probe


def _update_reporting(live: Any) -> None:
    """One update after a save; a problem is reported in lines, and the last good site stays."""
    from generator.content.problems import ContentError, report_lines

    try:
        update = live.update()
    except ContentError as exc:
        for line in report_lines(exc.problems, strict=False):
            print(line, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s) found; showing the last good build", file=sys.stderr)
        return
    except RenderError as exc:
        print(f"error: {exc}; showing the last good build", file=sys.stderr)
        return
    if update.kind != "none":
        logging.getLogger("mkdocs").info(f"press: {update.kind} update, {update.pages} page(s)")


def _error_page(site_dir: Path, code: int) -> bytes | None:
    page = site_dir / f"{code}.html"
    return page.read_bytes() if code in (404, 500) and page.is_file() else None


def press_plugin(config: Any) -> Any:
    """The press plugin of a loaded configuration; a config without it cannot build this site."""
    from mkdocs.exceptions import ConfigurationError

    plugin = config.plugins.get("press")
    if plugin is None:
        raise ConfigurationError("mkdocs.yml must list the 'press' plugin under plugins:")
    return plugin


def _quiet_mkdocs_logs() -> None:
    # MkDocs logs INFO chatter per build; editors only need warnings and errors.
    logging.getLogger("mkdocs").setLevel(logging.WARNING)
    if not logging.getLogger("mkdocs").handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("mkdocs: %(levelname)s %(message)s"))
        logging.getLogger("mkdocs").addHandler(handler)

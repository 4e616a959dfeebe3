"""`press serve`'s site, kept built in memory: after a save, only what depends on it is
written again.

A full build is MkDocs' own `build`, recorded (built_pages.py): per page its `_build_page`
call, its search entries, the articles it shows and a fingerprint of what it was made from.
After a save:
- an edit that leaves every article where it was (its body, title, description, read time or
  call to action changed; not its date, slug, categories, tags, authors, draft flag, pin,
  links or picture) renders only the article's page, the pages that show it (its excerpt,
  or it under "Read next"), the generated pages whose source changed (the newsletter issue
  that lists it, tag pages, the coming email), its share card, the feeds and the search
  index ("pages");
- a change to articles only (new, deleted, re-dated, recategorised, retagged, drafted or a
  URL moved) whose new blog plan differs from the last only in posts and further list pages
  that come or go (no list, tag or newsletter issue more or fewer) makes the plan again in
  place (in_place.py): the pages it lists differently, the posts whose "Read next" or
  neighbours changed, the pages that showed the articles, the generated pages that changed
  and the sitemap are written again, without MkDocs' build ("replanned");
- any other change to articles only makes the blog plan again and runs MkDocs' build over
  it, but writes only the pages whose fingerprint changed ("planned");
- anything else (a template, mkdocs.yml, site_config/, other content) builds it all ("full").
Each way the site is the same, byte for byte, as a fresh full build
(tests/test_live_preview.py makes the nine edits the preview must get right).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import mkdocs.commands.build as mkdocs_build
from mkdocs.config import load_config

from generator.blog.plan import BlogPlan, pages_added_and_removed, pages_changed
from generator.content.articles import Article
from generator.content.loader import load_content, problems_together, reread_article
from generator.content.problems import ContentError, display_path, errors_of
from generator.content.related import RelatedReading
from generator.feeds.build import build_feeds
from generator.site.alongside import Alongside
from generator.site.built_pages import (
    BuiltSite,
    keeping_site,
    read_again,
    recording,
    write_again,
    write_all_again,
    write_search_index,
)
from generator.site.cards import card_path
from generator.site.in_place import refile, remove_output
from generator.site.mkdocs_adapter import press_plugin
from generator.site.mkdocs_seam import build_theme_template, own_plugins, search_entries
from generator.site.newsletter import issues_showing
from generator.site.options import BuildOptions
from generator.site.parallel_pages import PageWriter
from generator.site.tags import tag_pages

WATCHED = ("content", "site_config", "templates", "mkdocs.yml")
# Pages written again after a save beyond which forking processes to render them pays.
MANY_PAGES = 20

Stamp = tuple[int, int]


def watched_files(root: Path) -> dict[Path, Stamp]:
    """Every file the site is built from, with its modification time and size. Hidden files
    are not: MkDocs leaves them out of the site, and editors keep their swap files there."""
    found: dict[Path, Stamp] = {}
    for name in WATCHED:
        top = root / name
        if top.is_file():
            found[top] = _stamp(top)
        for folder, dirs, names in os.walk(top):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for file in names:
                if not file.startswith("."):
                    path = Path(folder) / file
                    found[path] = _stamp(path)
    return found


def _stamp(path: Path) -> Stamp:
    status = path.stat()
    return status.st_mtime_ns, status.st_size


def changed_files(before: dict[Path, Stamp], after: dict[Path, Stamp]) -> set[Path]:
    return {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}


def placement(article: Article) -> tuple[Any, ...]:
    """What decides which pages show an article, and where: an edit that keeps it only
    changes what those pages say about it."""
    a = article
    where = (a.slug, a.path, a.uid, a.published, a.date_only, a.updated, a.draft, a.pinned)
    return (*where, a.authors, a.categories, a.tags, a.links, a.image, a.image_alt)


@dataclass(frozen=True)
class Update:
    kind: str  # "none", "pages" (only what showed the articles), "replanned", "planned", "full"
    pages: int  # pages written


class LiveSite:
    """The site `press serve` shows, built into `site_dir` and kept up to date."""

    def __init__(self, root: Path, options: BuildOptions, site_dir: Path, serve_url: str) -> None:
        self.root, self.options, self.site_dir, self.serve_url = root, options, site_dir, serve_url
        self.built: BuiltSite | None = None
        self.seen: dict[Path, Stamp] = {}
        self.session: Any = None  # the first configuration: its plugins last the session
        self.plugins: dict[str, Any] = {}  # the session's plugins (see _config)
        self.mount_path = "/"  # where mkdocs.yml's site_url puts the site, as `mkdocs serve`
        self.writers = 1  # processes that render the pages of a rebuild (see start)

    def start(self, jobs: int = 1) -> Update:
        """The first build. With `jobs` > 1, that many processes read the articles and draw
        the share cards (only before the server's threads start), and that many render the
        pages of this build and of every later planned or full one. Those later processes
        are forked while the server's threads run; they only render pages and write files,
        their log records go back to this process rather than to a stream, and CPython
        resets the logging locks in a forked child, so no lock another thread held is
        waited for."""
        self.session = self._config()
        self.session.plugins.on_startup(command="serve", dirty=False)
        self.writers = jobs
        return self.rebuild(jobs=jobs)

    def stop(self) -> None:
        if self.session is not None:
            self.session.plugins.on_shutdown()
            self.session = None

    def update(self) -> Update:
        """Brings the site up to date with the files; raises ContentError or RenderError,
        leaving the last good site, when the change cannot be built."""
        now_seen = watched_files(self.root)
        changed = changed_files(self.seen, now_seen)
        if not changed and self.built is not None:
            return Update("none", 0)
        built = self.built
        saved = _reread(built, changed) if built else None  # may raise ContentError
        if built is None or saved is None:
            articles_only = built is not None and _only_articles(built, changed)
            return self.rebuild(now_seen, built if articles_only else None, changed)
        if not saved.fresh and not saved.gone:  # saved as it was
            self.seen = now_seen
            return Update("none", 0)
        self.built = None  # unusable should rendering fail half-way: the next save rebuilds
        if saved.stay:
            written = self._render_dependents(built, saved.fresh)
            if written is None:
                return self.rebuild(now_seen)
            kind = "pages"
        else:
            written = self._replan(built, saved)
            if written is None:  # a list or an issue more or fewer: MkDocs builds it
                return self.rebuild(now_seen, built, changed)
            kind = "replanned"
        self.built, self.seen = built, now_seen
        return Update(kind, written)

    def rebuild(
        self,
        now_seen: dict[Path, Stamp] | None = None,
        earlier: BuiltSite | None = None,
        changed: set[Path] | None = None,
        jobs: int = 1,
    ) -> Update:
        """A full build, MkDocs' own, watched. Given the `earlier` build in the folder (when
        only articles changed), the site is planned again whole but only pages made from
        something new are written ("planned"); otherwise everything is ("full")."""
        from generator.site.mkdocs_adapter import RenderError

        now_seen = now_seen or watched_files(self.root)
        unchanged = {}
        if earlier is not None:
            known = press_plugin(earlier.config).articles.values()
            unchanged = {a.source: a for a in known if a.source not in (changed or set())}
        # ContentError before anything is written: the last build stays usable
        loaded = load_content(self.root, jobs=jobs, unchanged=unchanged)
        self.built = None  # until this build is through, the next save builds whole
        config = self._config()
        plugin = press_plugin(config)
        if earlier is None:
            plugin.generated.forget()
        site_config, articles = loaded
        # The first build has processes to spare: the feeds and the archive meanwhile.
        alongside = Alongside(site_config, articles, self.options.now) if jobs > 1 else None
        archive = partial(alongside.archive, plugin.generated.issues) if alongside else None
        plugin.options = replace(self.options, content=loaded, jobs=jobs, newsletter=archive)
        built = BuiltSite(config)
        kept = keeping_site(self.site_dir) if earlier else nullcontext(None)
        writer = None
        if self.writers > 1:  # the pages rendered by that many processes
            writer = PageWriter(self.writers, keep=partial(_shown_on, plugin))
            plugin.page_writer = writer
        try:
            with recording(built, earlier, writer), kept as site, _stopped(alongside):
                mkdocs_build.build(config, serve_url=self.serve_url)
        except SystemExit as exc:
            raise RenderError(f"mkdocs build aborted ({exc})") from exc
        finally:
            plugin.page_writer = None
            plugin.options = self.options  # the content is read again from here on
        feeds = (
            alongside.feeds() if alongside else build_feeds(site_config, articles, self.options.now)
        )
        _write_changed(self.site_dir, feeds)
        if site is not None:
            site.remove_unmade({r.dest for r in built.pages} | set(feeds))
        self.built, self.seen = built, now_seen
        kind = "planned" if earlier else "full"
        return Update(kind, len(built.pages) - built.kept)

    def _config(self) -> Any:
        # This site keeps its own plugins, kept over its rebuilds: two previews never share.
        with own_plugins(self.plugins):
            config = load_config(str(self.root / "mkdocs.yml"), site_dir=str(self.site_dir))
        self.mount_path = urlsplit(config.site_url or "/").path
        config.site_url = self.serve_url
        plugin = press_plugin(config)
        plugin.options, plugin.generated.remembers = self.options, True
        return config

    def _render_dependents(self, built: BuiltSite, fresh: dict[Path, Article]) -> int | None:
        """Pages written, or None when the change needs a full build."""
        plugin = press_plugin(built.config)
        site = plugin.site
        for path, article in fresh.items():
            plugin.articles[display_path(path, site.content_dir)] = article
        plugin.visible = [fresh.get(a.source, a) for a in plugin.visible]
        plugin.take_articles(fresh)
        plugin.related = RelatedReading(list(plugin.articles.values()), self.options.now)
        days = issues_showing(site, list(plugin.articles.values()), self.options.now, set(fresh))
        generated = _take_generated(plugin, self.options, days)
        if generated is None:
            return None
        return self._write_again(built, fresh, generated)

    def _replan(self, built: BuiltSite, saved: Saved) -> int | None:
        """Pages written after articles were added, deleted or moved between pages, when
        the new plan differs from the last only in posts and further list pages that come
        or go: the blog plan is made again in place (in_place.py), and only the pages it
        lists differently, the posts whose "Read next" changed, the pages that showed the
        articles and the generated pages that changed are written again, with the sitemap
        (it holds each page's date). None when the plan has other pages."""
        plugin = press_plugin(built.config)
        site, now = plugin.site, self.options.now
        before, after = plugin.plan, plugin.plan_for(saved.everything, self.options)
        change = pages_added_and_removed(before, after)
        if change is None:
            return None
        cards_before = {card_path(a) for a in plugin.visible}
        touched = set(saved.fresh) | saved.gone
        # The issues that listed the articles before the save, and (below) those that do now.
        days = issues_showing(site, list(plugin.articles.values()), now, touched)
        plugin.take_plan(after, saved.everything)
        gone = refile(built, plugin, *change)
        days |= issues_showing(site, saved.everything, now, set(saved.fresh))
        generated = _take_generated(plugin, self.options, days)
        if generated is None:
            return None
        remove_output(gone, self.site_dir)
        for path in cards_before - {card_path(a) for a in plugin.visible}:
            (self.site_dir / path).unlink(missing_ok=True)
        targets = generated | _replanned_pages(plugin, before, after, touched)
        for path in saved.gone:
            targets |= plugin.showing(path)
        written = self._write_again(built, saved.fresh, targets)
        _write_sitemap(built, plugin.files)
        return written

    def _write_again(self, built: BuiltSite, fresh: dict[Path, Article], targets: set[str]) -> int:
        """Writes again the pages made from `targets` (source URIs), the articles' own pages
        and those that showed them, then the search index, the feeds and the share cards."""
        plugin = press_plugin(built.config)
        targets = set(targets)
        for path in fresh:
            targets.add(display_path(path, plugin.site.content_dir))
            targets |= plugin.showing(path)
        order = sorted(built.at[uri] for uri in targets if uri in built.at)
        # As MkDocs builds: every page read before any is written, since a list page writes
        # the excerpts its posts made when they were read.
        for index in order:
            read_again(built.pages[index], plugin.files)
        if self.writers > 1 and len(order) > MANY_PAGES:
            records = [built.pages[index] for index in order]
            write_all_again(records, PageWriter(self.writers, keep=partial(_shown_on, plugin)))
        else:
            for index in order:
                write_again(built.pages[index])
        write_search_index(built)
        everything = list(plugin.articles.values())
        _write_changed(self.site_dir, build_feeds(plugin.site, everything, self.options.now))
        visible = {id(a) for a in plugin.visible}
        plugin.write_cards([a for a in fresh.values() if id(a) in visible], self.site_dir)
        return len(order)


def _replanned_pages(
    plugin: Any, before: BlogPlan, after: BlogPlan, touched: set[Path]
) -> set[str]:
    """The source URIs of the posts and list pages a new plan shows differently: those the
    plans list differently, and the posts whose "Read next" shows an article the save
    touched (those that showed one before are the pages `showing` it)."""
    blog = plugin.blog
    pages = {blog.source_of[u] for u in pages_changed(before, after) if u in blog.source_of}
    for article in plugin.visible:
        if any(other.source in touched for other in plugin.related.for_article(article)):
            pages.add(plugin.source_of(article))
    return pages


def _write_sitemap(built: BuiltSite, files: Any) -> None:
    """MkDocs' sitemap written again: it holds each page's date."""
    sitemap = "sitemap.xml"
    if sitemap in built.config.theme.static_templates:
        config, _, nav, env = built.pages[0].call[0][:4]
        build_theme_template(sitemap, env, files, config, nav)


def _shown_on(plugin: Any, page: Any) -> set[Path]:
    """The articles `page` showed when it was rendered, other than its own."""
    return set(plugin.shows.get(page.file.src_uri, ()))


def _only_articles(built: BuiltSite, changed: set[Path]) -> bool:
    """Whether every changed file is an article, new, edited or deleted."""
    posts = press_plugin(built.config).site.posts_dir
    return all(path.suffix == ".md" and path.is_relative_to(posts) for path in changed)


@dataclass(frozen=True)
class Saved:
    """The articles as a save left them."""

    fresh: dict[Path, Article]  # edited or new, read and checked again
    gone: set[Path]  # deleted
    stay: bool  # whether every edited article stays where it was (see `placement`)
    everything: list[Article]  # the site's articles now, in path order


def _reread(built: BuiltSite, changed: set[Path]) -> Saved | None:
    """The saved articles, read and checked again (alone, and with the others when one
    came or went); None unless every changed file is an article, and a changed title is
    not one other posts show."""
    plugin = press_plugin(built.config)
    known = {a.source: a for a in plugin.articles.values()}
    if search_entries(built.config) is None or not _only_articles(built, changed):
        return None
    fresh: dict[Path, Article] = {}
    gone: set[Path] = set()
    stay = True
    for path in sorted(changed):
        if not path.is_file():
            if path in known:
                gone.add(path)
            continue
        article = reread_article(path, plugin.site, list(plugin.articles.values()))
        earlier = known.get(path)
        retitled = earlier is not None and article.title != earlier.title
        if retitled and _listed_by_title(plugin, path):
            return None  # other posts' related links show that title: plan again
        stay = stay and earlier is not None and placement(article) == placement(earlier)
        if article != earlier:
            fresh[path] = article
    kept = [fresh.get(a.source, a) for a in known.values() if a.source not in gone]
    new = [article for path, article in fresh.items() if path not in known]
    everything = sorted(kept + new, key=_source)
    if new or gone:  # check them together, as a fresh build does
        stay = False
        errors = errors_of(problems_together(everything, plugin.site), strict=False)
        if errors:
            raise ContentError(errors)
    return Saved(fresh, gone, stay and not gone, everything)


@contextmanager
def _stopped(alongside: Alongside | None) -> Iterator[None]:
    """A failed build does not wait for the process making the feeds and the archive."""
    try:
        yield
    except BaseException:
        if alongside is not None:
            alongside.stop()
        raise


def _source(article: Article) -> Path:
    return article.source


def _listed_by_title(plugin: Any, path: Path) -> bool:
    """Whether a post's `links:` lists the article at `path` without a title of its own, so
    showing the article's title on that post's page."""
    uri = display_path(path, plugin.site.content_dir)
    return any(
        not title and target.split("#", 1)[0] == uri
        for other in plugin.articles.values()
        for title, target in other.links
    )


def _take_generated(plugin: Any, options: BuildOptions, days: set[Any]) -> set[str] | None:
    """Refreshes the pages press generates from the plugin's model (the newsletter issues of
    `days`, the tags, the coming email); returns the source URIs of those pages that changed
    (the static files among them are written), or None when one would be new."""
    site = plugin.site
    everything = list(plugin.articles.values())
    generated = plugin.generated
    sources = generated.newsletter(site, everything, options, days)
    sources.update(tag_pages(site, everything, options.now))
    if options.email_preview:
        sources.update(generated.email_preview(site, everything, options))
    changed = set()
    for uri, content in sources.items():
        file = plugin.files.get_file_from_path(uri)
        if file is None:
            return None
        if file.content_string == content:
            continue
        file.content_string = content
        if file.page is not None:
            changed.add(uri)
        else:
            file.copy_file()
    return changed


def _write_changed(site_dir: Path, outputs: dict[str, bytes]) -> None:
    for relative, data in outputs.items():
        path = site_dir / relative
        if path.is_file() and path.read_bytes() == data:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

"""A new blog plan put into `press serve`'s built site in place, without MkDocs' build: the
posts and further list pages it adds get their files, pages and records where a fresh build
would have them, those it removes leave with their output, and every page takes its
neighbours from the plan (live.py decides when this is possible and what to write again).

The order of MkDocs' files is the order a fresh build has: its pages are written, indexed for
search and listed in the sitemap in that order. A fresh build lists the content folder's
files as MkDocs walks it (`get_files`, its public function), then the list pages in the
plan's order; a new post goes before the first walked file that comes after it, a new list
page after the page before it in its list.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files, InclusionLevel, get_files
from mkdocs.structure.pages import Page

from generator.blog.plan import Kind, PlannedPage
from generator.site.blog_pages import (
    list_page_file,
    list_source,
    page_source,
    point_post_at,
    set_neighbours,
)
from generator.site.built_pages import BuiltSite, PageRecord


def refile(
    built: BuiltSite, press: Any, added: list[PlannedPage], removed: list[PlannedPage]
) -> list[PageRecord]:
    """Puts MkDocs' files, pages and `built`'s records in line with the press plugin's new
    plan (`added` and `removed` are its pages that came and went); returns the records of
    the removed pages."""
    config = built.config
    gone = {page_source(p, press.source_of) for p in removed}
    kept = [file for file in press.files if file.src_uri not in gone]
    new = [(planned, _new_file(config, press, planned)) for planned in added]
    files = Files(_in_order(kept, new, config))
    press.files = files
    args, _ = built.pages[0].call
    doc_files = args[1]  # the list every page's call shares
    doc_files[:] = files.documentation_pages(inclusion=InclusionLevel.is_in_serve)
    # A post whose URL changed is removed and added from one source: its record is new.
    records = {r.page.file.src_uri: r for r in built.pages}
    kept_records = {src: r for src, r in records.items() if src not in gone}
    built.pages = [kept_records.get(f.src_uri) or _new_record(f, args, config) for f in doc_files]
    built.at = {r.page.file.src_uri: i for i, r in enumerate(built.pages)}
    set_neighbours(files, press.blog)
    return [records[src] for src in gone if src in records]


def remove_output(records: list[PageRecord], site_dir: Path) -> None:
    """The removed pages' files, and the folders they leave empty."""
    for record in records:
        path = site_dir / record.dest
        path.unlink(missing_ok=True)
        folder = path.parent
        while folder != site_dir and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent


def _new_file(config: Any, press: Any, planned: PlannedPage) -> File:
    if planned.kind is Kind.POST:
        article = planned.articles[0]
        file = File(
            press.source_of(article), config.docs_dir, config.site_dir, config.use_directory_urls
        )
        point_post_at(file, article.path, config)
    else:
        file = list_page_file(config, planned)
    Page(None, file, config)
    return file


def _in_order(files: list[File], new: list[tuple[PlannedPage, File]], config: Any) -> list[File]:
    """`files` with the `new` ones where a fresh build has them (see the module docstring)."""
    result = list(files)
    posts = [file for planned, file in new if planned.kind is Kind.POST]
    if posts:
        walked = {file.src_uri: n for n, file in enumerate(get_files(config))}
        for post in sorted(posts, key=lambda f: walked[f.src_uri]):
            result.insert(_walked_place(result, walked, walked[post.src_uri]), post)
    for planned, file in new:  # in the plan's order: a page's previous one is placed first
        if planned.kind is not Kind.POST and planned.previous is not None:
            previous = list_source(planned.previous)
            at = next(n for n, f in enumerate(result) if f.src_uri == previous)
            result.insert(at + 1, file)
    return result


def _walked_place(files: list[File], walked: dict[str, int], place: int) -> int:
    """Where a walked file at `place` goes: before the first walked file after it, or after
    the last walked one."""
    last = -1
    for n, file in enumerate(files):
        at = walked.get(file.src_uri) if file.generated_by is None else None
        if at is None:
            continue
        if at > place:
            return n
        last = n
    return last + 1


def _new_record(file: File, args: tuple[Any, ...], config: Any) -> PageRecord:
    dest = os.path.relpath(file.abs_dest_path, config.site_dir)
    kwargs = {"excluded": file.inclusion.is_excluded()}
    return PageRecord(file.page, (args, kwargs), [], set(), None, dest)

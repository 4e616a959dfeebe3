"""The copy of an article that MkDocs renders: front matter rewritten from the Article.

Material's blog plugin reads front matter itself and treats a naive date as UTC. Handing it a
normalised copy (aware date in the site time zone, our slug and read time) makes the page,
the URL and the archive agree with the feeds and the digest.
"""

from __future__ import annotations

import yaml

from generator.articles import Article


def normalized_post(article: Article, show_draft: bool = False) -> str:
    dates = {"created": article.published.isoformat()}
    if article.updated:
        dates["updated"] = article.updated.isoformat()
    meta = {
        "title": article.title,
        "description": article.description,
        "authors": [a.id for a in article.authors],
        "categories": list(article.categories),
        "tags": list(article.tags),
        "slug": article.slug,
        "readtime": article.read_time,
        "draft": bool(show_draft and article.draft),
    }
    front = yaml.safe_dump(meta, sort_keys=True, allow_unicode=True)
    # Dates are written as plain ISO scalars so YAML loads them as aware datetimes.
    date_lines = "date:\n" + "".join(f"  {k}: {v}\n" for k, v in dates.items())
    return f"---\n{front}{date_lines}---\n\n{article.body_md}\n"

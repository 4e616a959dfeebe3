"""Content: the Article model and everything that turns editors' files into it.

Owns reading and checking `content/posts/*.md` and `site_config/` (front matter with line
numbers, dates in the site time zone, links between articles), the one Markdown renderer,
the one HTML module (markup.py: ids, links, tag and fragment edits on real parsers),
problems reported as `path:line:col: message`, and `press new`. It writes nothing but new
article files, and imports only the top-level foundation modules (`clock`, `atomic`, ...):
every other package reads content, none is read by it.
"""

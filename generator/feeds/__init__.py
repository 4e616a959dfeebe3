"""Feeds: RSS 2.0 and Atom (made with feedgen) and JSON Feed 1.1, built from Articles alone.

Owns the feed files' bytes, keyed by site path; writing them is the site's job. Imports only
content, so feeds never need a site build.
"""

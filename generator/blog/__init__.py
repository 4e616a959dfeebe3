"""Blog: the plan of every page of the blog, computed by press rather than by an engine.

From the checked articles and the site settings, `plan_blog` lists each page (post, home index
and its further pages, year archive, category, author, tags, newsletter archive and issues, the
email preview) with its URL, title, template, listed articles and pagination neighbours;
`pages_changed` says which pages an edit touches. Imports content and digest, never MkDocs.
"""

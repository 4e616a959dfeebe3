"""Site: the published web output, assembled and swapped in atomically.

Owns the MkDocs adapter and the press plugin (the only code that imports MkDocs), which renders
the blog plan (generator/blog) with the theme's templates: the plan as MkDocs files and
navigation, list pages' excerpts and pagination, pages from the render cache, what each
page's template gets, the pages press generates (newsletter, tags, /subscribe/), posts' bodies
with their links made relative ahead (under --jobs), the one seam past MkDocs' documented API,
SEO metadata, fixes to Material's markup, the newsletter archive pages, the live preview
(told of saves by the kernel) and `press build` (site plus feeds, written to a staging tree
and swapped in whole). It imports content, blog, feeds and digest; nothing imports it but the
CLI.
"""

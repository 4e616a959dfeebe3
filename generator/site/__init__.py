"""Site: the published web output, assembled and swapped in atomically.

Owns the MkDocs adapter and the press plugin (the only code that imports MkDocs), the copy of
each post that Material's blog plugin renders, SEO metadata, fixes to Material's markup, the
newsletter archive pages, and `press build` (site plus feeds, written to a staging tree and
swapped in whole). It imports content, feeds and digest; nothing imports it but the CLI.
"""

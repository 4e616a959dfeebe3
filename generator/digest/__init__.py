"""Digest: the Saturday email, from schedule to bytes.

Owns when issues go out and which articles each holds (schedule and week selection), the Jinja
environments for every email and service page we render ourselves, the rendered issue (HTML
with inlined CSS, and plain text), the MIME message built once per issue and personalised per
subscriber, and the preview files of `press digest`. Imports only content; it sends nothing.
"""

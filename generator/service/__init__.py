"""Service: the subscription web service behind the subscribe box and the unsubscribe links.

Owns the Starlette app (the only code that imports Starlette), its handlers and error pages,
the double opt-in confirmation email and the per-client rate limit. Imports content, digest
(email templates), subscribers (the store) and delivery (transports).
"""

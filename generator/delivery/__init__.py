"""Delivery: `press send` and everything that puts a message in a mail server's hands.

Owns the send loop (workers, passes, retries, pauses), the ledger of one row per issue and
subscriber, the acceptance journal that records each accepted message durably, the lock that
keeps two sends of one issue apart, the transports (SMTP, Maildir, memory) and the progress
line. Imports content, digest (the message) and subscribers (the tables it shares).
"""

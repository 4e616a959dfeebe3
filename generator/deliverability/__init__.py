"""Deliverability: `press doctor`, the check of what receivers look up before they trust mail.

Owns the DNS look-ups (dnspython, bounded in count and time), an SPF evaluator for the relay's
addresses, the parsing of DKIM and DMARC records, and the checks that say for each record what
is missing and the exact record to publish. Imports content (the site's mail settings) and
delivery (the DKIM keys press signs with).
"""

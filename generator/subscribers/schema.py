"""The subscriber database's tables, as SQLAlchemy Core objects (the current schema)."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

STATUSES = ("pending", "active", "unsubscribed", "bounced", "complained")
DELIVERY_STATUSES = ("queued", "retry", "sent", "failed", "skipped")

metadata = MetaData()

schema_version = Table(
    "press_schema_version",
    metadata,
    Column("version", Integer, nullable=False),
)

subscribers = Table(
    "subscribers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("status", String(16), nullable=False),
    Column("source", String(200), nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("confirmed_at", DateTime(timezone=True)),
    Column("confirm_sent_at", DateTime(timezone=True)),
    Column("bounce_count", Integer, nullable=False, default=0),
    Column("welcomed_at", DateTime(timezone=True)),  # added in version 4
    # The categories followed, one per line, sorted; "" follows every category (version 9).
    Column("topics", Text, nullable=False, default="", server_default=""),
    Column("paused_until", DateTime(timezone=True)),  # no digest before this (version 9)
    CheckConstraint(f"status IN {STATUSES!r}", name="subscriber_status"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("issue", String(10), primary_key=True),
    Column(
        "subscriber_id",
        Integer,
        ForeignKey("subscribers.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=False, default=""),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # Which rendering of the issue this subscriber gets (their topics' articles), fixed when
    # the row is queued so a resumed send repeats it (version 9; "" is the whole issue).
    Column("variant", String(16), nullable=False, default="", server_default=""),
    CheckConstraint(f"status IN {DELIVERY_STATUSES!r}", name="delivery_status"),
)
# No index on status: every accepted message updates its row, and an index on status would add
# index pages to each of those commits; the due scan walks the primary key (issue, subscriber).

issues = Table(
    "issues",
    metadata,
    Column("issue", String(10), primary_key=True),
    # A short hash of the issue's bytes before personalisation: what `press digest` previewed.
    Column("fingerprint", String(64), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
)

# The fingerprint of each variant an issue's send has used: a resumed send may add variants
# (a reader with new topics) but never change one already sent (version 9).
issue_variants = Table(
    "issue_variants",
    metadata,
    Column("issue", String(10), primary_key=True),
    Column("variant", String(16), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
)

mail_queue = Table(
    "mail_queue",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # confirm, welcome
    Column("email", String(254), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("due_at", DateTime(timezone=True)),  # None once sent or given up
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=False, default=""),
    Column("sent_at", DateTime(timezone=True)),
    Column("locked_until", DateTime(timezone=True)),  # a worker's lease on the row
    Column("locked_by", String(32)),  # the worker holding the lease (added in version 8)
)

# The service processes' mail workers and their last sign of life: a worker silent for
# mail_queue.STALE seconds is dead, and the rows it leased are free at once.
mail_workers = Table(
    "mail_workers",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("heartbeat_at", DateTime(timezone=True), nullable=False),
)

# Changes an operator makes by hand, with why: the record that a suppressed address was
# deliberately made active again.
subscriber_events = Table(
    "subscriber_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(254), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("change", String(32), nullable=False),  # e.g. "complained -> active"
    Column("reason", Text, nullable=False),
)

# Bounce and complaint messages already applied, by Message-ID: ingesting one twice counts once.
feedback_seen = Table(
    "feedback_seen",
    metadata,
    Column("key", String(300), primary_key=True),
    Column("ingested_at", DateTime(timezone=True), nullable=False),
)

# Clicks on the article links of an issue (version 9): one row per issue, link and reader,
# where the reader is a pseudonym that changes every issue (who clicked is not stored) unless
# the operator turns on per-reader counts (then "id-<subscriber id>").
clicks = Table(
    "clicks",
    metadata,
    Column("issue", String(10), primary_key=True),
    Column("link", String(500), primary_key=True),
    Column("reader", String(40), primary_key=True),
    Column("first_at", DateTime(timezone=True), nullable=False),
    Column("count", Integer, nullable=False, default=1),
)

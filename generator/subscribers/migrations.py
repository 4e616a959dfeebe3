"""Versioned schema: numbered migrations applied in order, each in its own transaction.

`press_schema_version` holds the version reached. A migration creates the tables that were
born in its version; a later change to an existing table must be its own migration (an
ALTER), never an edit of an earlier one, because deployed databases already ran it.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Column, Connection, Engine, inspect, select, text
from sqlalchemy.exc import DBAPIError

from generator.errors import PressError
from generator.subscribers.schema import (
    clicks,
    deliveries,
    feedback_seen,
    issue_variants,
    issues,
    mail_queue,
    mail_workers,
    schema_version,
    subscriber_events,
    subscribers,
)


def _create_subscribers(conn: Connection) -> None:
    subscribers.create(conn)


def _create_deliveries(conn: Connection) -> None:
    deliveries.create(conn)


def _create_issues(conn: Connection) -> None:
    issues.create(conn)


def _add_welcomed_at(conn: Connection) -> None:
    # Databases created by this version already have the column (version 1 creates the table
    # from the current definition); older ones get it added.
    if "welcomed_at" not in {c["name"] for c in inspect(conn).get_columns("subscribers")}:
        kind = subscribers.c.welcomed_at.type.compile(dialect=conn.dialect)
        conn.execute(text(f"ALTER TABLE subscribers ADD COLUMN welcomed_at {kind}"))


def _create_mail_queue(conn: Connection) -> None:
    mail_queue.create(conn)


def _create_subscriber_events(conn: Connection) -> None:
    subscriber_events.create(conn)


def _create_feedback_seen(conn: Connection) -> None:
    feedback_seen.create(conn)


def _add_mail_workers(conn: Connection) -> None:
    mail_workers.create(conn)
    if "locked_by" not in {c["name"] for c in inspect(conn).get_columns("mail_queue")}:
        kind = mail_queue.c.locked_by.type.compile(dialect=conn.dialect)
        conn.execute(text(f"ALTER TABLE mail_queue ADD COLUMN locked_by {kind}"))


def _add_topics_and_clicks(conn: Connection) -> None:
    """Topics and pauses per subscriber, the variant per delivery, clicks per issue."""
    _add_missing(conn, subscribers.c.topics, "DEFAULT '' NOT NULL")
    _add_missing(conn, subscribers.c.paused_until)
    _add_missing(conn, deliveries.c.variant, "DEFAULT '' NOT NULL")
    issue_variants.create(conn, checkfirst=True)
    clicks.create(conn, checkfirst=True)


def _add_missing(conn: Connection, column: Column, extra: str = "") -> None:
    # A table created by version 1 or 2 of this code already has the current columns.
    table = column.table.name
    if column.name not in {c["name"] for c in inspect(conn).get_columns(table)}:
        kind = column.type.compile(dialect=conn.dialect)
        conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column.name} {kind} {extra}"))


MIGRATIONS: tuple[Callable[[Connection], None], ...] = (
    _create_subscribers,
    _create_deliveries,
    _create_issues,
    _add_welcomed_at,
    _create_mail_queue,
    _create_subscriber_events,
    _create_feedback_seen,
    _add_mail_workers,
    _add_topics_and_clicks,
)
LATEST = len(MIGRATIONS)


class SchemaTooNew(PressError, RuntimeError):
    """The database was migrated by a newer press; this one must not write to it."""


def current_version(conn: Connection) -> int:
    if not inspect(conn).has_table(schema_version.name):
        return 0
    return conn.execute(select(schema_version.c.version)).scalar_one_or_none() or 0


def migrate(engine: Engine, target: int = LATEST) -> int:
    """Bring the schema up to `target`; returns the version reached.

    The service and a send may start at the same moment and both try to migrate: PostgreSQL
    serialises them with an advisory lock; on SQLite the loser sees "already exists" and
    simply re-reads the version.
    """
    for attempt in range(3):
        try:
            return _migrate_once(engine, target)
        except DBAPIError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _migrate_once(engine: Engine, target: int) -> int:
    with engine.begin() as conn:
        _lock(conn)
        if not inspect(conn).has_table(schema_version.name):
            schema_version.create(conn)
            conn.execute(schema_version.insert().values(version=0))
    version = 0
    for number in range(1, target + 1):
        with engine.begin() as conn:
            _lock(conn)
            version = current_version(conn)
            if version > LATEST:
                raise SchemaTooNew(f"database schema is version {version}; upgrade press")
            if version >= number:
                continue
            MIGRATIONS[number - 1](conn)
            conn.execute(schema_version.update().values(version=number))
            version = number
    return version


def _lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(7411920861)"))

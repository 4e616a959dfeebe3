"""`press send`: deliver one issue to every active subscriber, exactly once.

The main thread pages through the ledger's due rows and feeds a bounded queue; one worker per
SMTP connection personalises each message from the prebuilt template and sends it. Each
acceptance is recorded (acceptance.py) before the worker lets the server accept its next
message, so a crash costs at most one duplicate per connection.

Temporary failures are retried in later passes with a doubling delay; permanent ones are
recorded and never retried. After `pause_after` failures in a row the send stops, leaving
everything not yet accepted due for the next run.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from generator.content.site_config import DeliverySettings, SiteConfig
from generator.delivery.acceptance import (
    AcceptanceRecorder,
    acceptance_recorder,
    recover_acceptances,
)
from generator.delivery.envelope import Envelope
from generator.delivery.ledger import Due, Ledger, LedgerWriter, chunked
from generator.delivery.progress import Progress
from generator.delivery.transports import (
    DeliveryError,
    PermanentError,
    SetupError,
    TransportFactory,
)
from generator.digest.message import MessageTemplate, Personaliser
from generator.errors import PressError
from generator.rate_limit import RateLimiter
from generator.tokens import Signer

PAGE = 500
BATCH = 20
MAX_RETRY_WAIT = 600.0  # seconds; keeps an unattended retry pass bounded in time
# The same permanent refusal for this many different recipients in a row, on one connection
# and with no acceptance between them, is the relay refusing everyone, not those readers.
RELAY_REFUSALS = 3


@dataclass(frozen=True)
class SendPlan:
    limit: int | None = None  # at most this many subscribers tried in this run
    rate: float | None = None  # messages per second, all connections together
    connections: int = 1


@dataclass
class SendReport:
    total: int = 0  # due when the run started
    sent: int = 0
    failed: int = 0  # permanently, plus temporary failures still due after the last retry
    skipped: int = 0
    bounced: int = 0  # subscribers marked bounced by this run
    already_sent: int = 0
    paused: str = ""

    @property
    def ok(self) -> bool:
        return not self.failed and not self.paused


@dataclass(frozen=True)
class Mailing:
    site: SiteConfig
    template: MessageTemplate  # the whole issue
    signer: Signer
    transport: TransportFactory
    settings: DeliverySettings
    clock: Callable[[], datetime]
    # The other variants (digest/variants.py) by key, and which one each choice of topics
    # gets (None: everyone gets the whole issue).
    variants: Mapping[str, MessageTemplate] = field(default_factory=dict)
    topics: Mapping[str, str] | None = None


@dataclass
class _Run:
    """State shared by the workers of one pass."""

    mailing: Mailing
    ledger: Ledger
    report: SendReport
    progress: Progress
    pace: RateLimiter
    retry: list[Due] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    failures_in_a_row: int = 0
    crash: BaseException | None = None
    relay_fault: bool = False  # the relay refused everyone alike: refusals count against no one

    def halt(self, reason: str) -> None:
        with self.lock:
            self.report.paused = self.report.paused or reason
        self.stop.set()

    def relay_failed(self, reason: str) -> None:
        self.relay_fault = True
        self.halt(reason)

    def succeeded(self, count: int) -> None:
        """`count` more messages accepted (a worker tells once per batch, not per message)."""
        with self.lock:
            self.report.sent += count
        self.progress.advance(sent=count)

    def accepted_one(self) -> None:
        if self.failures_in_a_row:  # read without the lock: almost always 0
            with self.lock:
                self.failures_in_a_row = 0

    def failed(self, due: Due, error: DeliveryError, bounced: bool) -> None:
        with self.lock:
            if isinstance(error, PermanentError):
                self.report.failed += 1
                self.report.bounced += bounced
            else:
                self.retry.append(due)
            self.failures_in_a_row += 1
            limit = self.mailing.settings.pause_after
            if self.failures_in_a_row >= limit and not self.stop.is_set():
                self.report.paused = f"paused after {limit} failures in a row; last: {error}"
                self.stop.set()
        if isinstance(error, PermanentError):  # a temporary failure is tried again, not failed
            self.progress.advance(failed=1)


def send_pace(rate: float | None, clock: Callable[[], float] = time.monotonic) -> RateLimiter:
    """Spaces messages to at most `rate` per second across all workers, with no burst."""
    return RateLimiter(1, 1.0 / rate, clock=clock) if rate else RateLimiter(0)


def send_issue(mailing: Mailing, ledger: Ledger, plan: SendPlan, progress_to: TextIO) -> SendReport:
    """Enqueue, then deliver in passes until nothing is due, retries run out, or a pause."""
    recover_acceptances(ledger)  # what a killed run journaled counts as sent
    ledger.enqueue(mailing.clock(), mailing.topics)
    counts = ledger.counts()
    report = SendReport(already_sent=counts.get("sent", 0))
    report.total = counts.get("queued", 0) + counts.get("retry", 0)
    if plan.limit is not None:
        report.total = min(report.total, plan.limit)
    progress = Progress(report.total, progress_to)
    run = _Run(mailing, ledger, report, progress, send_pace(plan.rate))
    _deliver_pass(run, plan, None)
    _raise_crash(run)
    settings = mailing.settings
    for attempt in range(1, settings.max_attempts):
        if not run.retry or run.stop.is_set():
            break
        ids = sorted(due.subscriber_id for due in run.retry)
        run.retry = []
        time.sleep(min(settings.retry_delay * 2 ** (attempt - 1), MAX_RETRY_WAIT))
        _deliver_pass(run, plan, ids)
        _raise_crash(run)
    report.failed += len(run.retry)  # still due: the next run tries them again
    progress.finish()
    return report


class SendCrashed(PressError, RuntimeError):
    """Something other than delivery failed (database, disk); nothing accepted is lost."""


def _raise_crash(run: _Run) -> None:
    if run.crash is not None:
        run.progress.finish()
        raise SendCrashed(
            f"send stopped: {run.crash}; run press send again to resume"
        ) from run.crash


def _deliver_pass(run: _Run, plan: SendPlan, only: list[int] | None) -> None:
    # Work goes out in small batches: a queue hand-off per message costs as much as a ledger
    # commit. The queue is bounded, so memory does not grow with the number of subscribers.
    jobs: queue.Queue[list[Due] | None] = queue.Queue(maxsize=plan.connections * 2)
    recorder = acceptance_recorder(run.ledger, run.mailing.clock)
    workers = [
        threading.Thread(target=_worker, args=(run, jobs, recorder), daemon=True)
        for _ in range(plan.connections)
    ]
    for worker in workers:
        worker.start()
    try:
        _produce(run, jobs, recorder, plan, only)
    finally:
        for _ in workers:
            jobs.put(None)
        for worker in workers:
            worker.join()
        recorder.close()


def _produce(
    run: _Run,
    jobs: queue.Queue,
    recorder: AcceptanceRecorder,
    plan: SendPlan,
    only: list[int] | None,
) -> None:
    budget = plan.limit if only is None and plan.limit is not None else None
    for chunk in chunked(only, PAGE) if only is not None else [None]:
        after = 0
        while not run.stop.is_set() and budget != 0:
            page = run.ledger.due_page(after, PAGE, chunk)
            if not page:
                break
            after = page[-1].subscriber_id
            recorder.fold_if_due()
            run.ledger.checkpoint()
            inactive = [due.subscriber_id for due in page if not due.active]
            run.ledger.mark_skipped(inactive, run.mailing.clock())
            run.report.skipped += len(inactive)
            active = [due for due in page if due.active]
            if budget is not None:
                active, budget = active[:budget], max(budget - len(active), 0)
            for start in range(0, len(active), BATCH):
                jobs.put(active[start : start + BATCH])


def _worker(run: _Run, jobs: queue.Queue, recorder: AcceptanceRecorder) -> None:
    try:
        worker = _Worker(run, recorder)
    except Exception as exc:
        _crashed(run, jobs, exc)
        return
    try:
        while (batch := jobs.get()) is not None:
            worker.deliver(batch)
        worker.finish()
    except Exception as exc:
        _crashed(run, jobs, exc)
    finally:
        worker.close()


def _crashed(run: _Run, jobs: queue.Queue, exc: Exception) -> None:
    """Stop the send and keep draining, so the producer is never left blocked on a full queue."""
    with run.lock:
        run.crash = run.crash or exc
    run.stop.set()
    while jobs.get() is not None:
        pass


class _Worker:
    """One SMTP connection's share of a pass."""

    def __init__(self, run: _Run, recorder: AcceptanceRecorder) -> None:
        mailing = run.mailing
        self.run, self.recorder = run, recorder
        self.personaliser = Personaliser(mailing.site, mailing.template, mailing.signer)
        self.personalisers = {
            key: Personaliser(mailing.site, template, mailing.signer)
            for key, template in mailing.variants.items()
        }
        self.envelope = Envelope(mailing.site, mailing.signer)
        self.transport = mailing.transport()
        self.writer = LedgerWriter(run.ledger)
        # Permanent refusals that might be the relay's rather than the reader's, held until
        # the connection proves itself (a later acceptance) or shows the relay refuses all.
        self.held: list[tuple[Due, PermanentError]] = []

    def deliver(self, batch: list[Due]) -> None:
        sent = 0
        try:
            for due in batch:
                if self.run.stop.is_set():
                    break  # drain: what is left stays due for the next run
                sent += self.deliver_one(due)
        finally:
            self.run.succeeded(sent)

    def deliver_one(self, due: Due) -> bool:
        """Send one message; True if the server accepted it."""
        run = self.run
        wait = run.pace.reserve()
        if wait:  # sleep(0) would still hand the interpreter lock to another thread
            time.sleep(wait)
        personaliser = self.personalisers.get(due.variant, self.personaliser)
        sent_at = int(run.mailing.clock().timestamp())
        message = personaliser.message(due.email, due.generation, due.subscriber_id, sent_at)
        try:
            self.transport.send(self.envelope.sender(due.subscriber_id), due.email, message)
        except DeliveryError as exc:
            self.failed(due, exc)
            return False
        run.accepted_one()
        self.recorder.accepted(due, self.writer)
        if self.held:  # the server accepts mail: what it refused was about those readers
            self.release_held()
        return True

    def failed(self, due: Due, exc: DeliveryError) -> None:
        run, mailing = self.run, self.run.mailing
        if isinstance(exc, SetupError):
            run.halt(f"cannot use the transport: {exc}")
        elif isinstance(exc, PermanentError) and exc.names_recipient:
            self.bounced(due, exc)
        elif isinstance(exc, PermanentError):
            self.hold(due, exc)
        else:
            self.writer.retry(due, str(exc), mailing.clock())
            run.failed(due, exc, False)

    def hold(self, due: Due, exc: PermanentError) -> None:
        if self.held and self.held[-1][1].code != exc.code:
            self.release_held()
        self.held.append((due, exc))
        if len(self.held) >= RELAY_REFUSALS:
            self.held = []  # they stay due: the relay, not the readers, said no
            self.run.relay_failed(
                f"the mail server gave {RELAY_REFUSALS} different recipients in a row the same "
                f"refusal ({exc}): that is the server, so it counts against no reader"
            )

    def release_held(self) -> None:
        held, self.held = self.held, []
        for due, exc in held:
            self.bounced(due, exc)

    def bounced(self, due: Due, exc: PermanentError) -> None:
        mailing = self.run.mailing
        limit = mailing.settings.bounce_limit
        bounced = self.writer.failed(due, str(exc), mailing.clock(), limit)
        self.run.failed(due, exc, bounced)

    def finish(self) -> None:
        """End of the pass: refusals still held count as the readers' unless the relay
        was found at fault (then they stay due)."""
        if self.run.relay_fault:
            self.held = []
        else:
            self.release_held()

    def close(self) -> None:
        self.writer.close()
        self.transport.close()

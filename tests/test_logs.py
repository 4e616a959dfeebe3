"""The service logs one key=value line per event on standard error, for journald."""

from __future__ import annotations

import io
import logging
import re
import signal
import time

import httpx
from test_service_recovery import log_of, ready, serve, wait_for

from generator.service.logs import configure_logging, log_event

from asgi_server import free_port
from smtp_server import smtp_server

LINE = re.compile(
    r'^level=(debug|info|warning|error|critical)( \w+=([^\s"=\\]+|"([^"\\]|\\.)*"))+$'
)


def test_each_event_is_one_parseable_line():
    stream = io.StringIO()
    configure_logging(stream)
    try:
        log_event("mail_failed", logging.WARNING, error='421 "busy"\nbye', kind="confirm")
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            logging.getLogger("press").exception("mail_worker_error", extra={"fields": {}})
        logging.getLogger("uvicorn.error").warning("Exceeded concurrency limit.")
    finally:
        logging.getLogger().handlers = []
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3 and all(LINE.match(line) for line in lines), lines
    assert lines[0] == r'level=warning event=mail_failed error="421 \"busy\"\nbye" kind=confirm'
    assert lines[1].startswith('level=error event=mail_worker_error exc="Traceback')
    assert "RuntimeError: boom" in lines[1]
    assert lines[2] == 'level=warning logger=uvicorn.error event="Exceeded concurrency limit."'


def test_the_running_service_logs_its_events(mail_project):
    root, url, _ = mail_project
    with smtp_server() as (smtp, server):
        port = free_port()
        child = serve(root, url, smtp, port)
        try:
            assert wait_for(lambda: ready(port), 30)
            answer = httpx.post(
                f"http://127.0.0.1:{port}/subscribe", data={"email": "log@example.com"}
            )
            assert answer.status_code == 200
            assert httpx.get(f"http://127.0.0.1:{port}/confirm/forged").status_code == 400
            assert wait_for(lambda: server.count() == 1, 15)
            time.sleep(0.2)
        finally:
            child.send_signal(signal.SIGTERM)
            child.wait(30)
    lines = log_of(root, port).splitlines()
    assert lines and all(LINE.match(line) for line in lines), lines
    events = [re.search(r"event=(\S+)", line)[1] for line in lines]
    for wanted in ("service_started", "mail_worker_started", "subscribe", "request_refused"):
        assert wanted in events, events
    assert any("event=mail_sent kind=confirm" in line for line in lines)
    assert any("event=request_refused path=/confirm/forged status=400" in line for line in lines)
    assert "mail_worker_stopped" in events  # a clean stop says so
    assert "log@example.com" not in "\n".join(lines)

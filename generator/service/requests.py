"""Reading a request safely: a capped body, form or JSON fields, what the client wants back."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import parse_qs

from starlette.requests import Request

MAX_BODY = 2048  # bytes: an address, a source and a honeypot fit many times over
BODY_TIMEOUT = 10.0  # seconds for the whole body, once the head has arrived


class RequestRefused(Exception):
    """The request cannot be served as sent; `status` and `message` are the answer."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


async def read_body(request: Request, limit: int = MAX_BODY) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise RequestRefused(413, f"The request is larger than {limit} bytes.")
    try:
        async with asyncio.timeout(BODY_TIMEOUT):
            return await _capped_body(request, limit)
    except TimeoutError as exc:
        raise RequestRefused(408, "The request body took too long to arrive.") from exc


async def _capped_body(request: Request, limit: int) -> bytes:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise RequestRefused(413, f"The request is larger than {limit} bytes.")
    return body


def parse_fields(request: Request, body: bytes) -> dict[str, str]:
    """Each field's last value (a form may repeat a field; see parse_field_lists)."""
    return {name: values[-1] for name, values in parse_field_lists(request, body).items()}


def parse_field_lists(request: Request, body: bytes) -> dict[str, list[str]]:
    """Every value of each field: a form's ticked checkboxes, or a JSON string or list."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if kind == "application/json":
            data = json.loads(body or b"null")
            if not isinstance(data, dict):
                raise ValueError("not an object")
            return {str(k): values for k, v in data.items() if (values := _strings(v))}
        if kind in ("application/x-www-form-urlencoded", ""):
            return parse_qs(body.decode("utf-8"), max_num_fields=MAX_FIELDS)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RequestRefused(400, "The request body could not be read.") from exc
    raise RequestRefused(415, "Send a form (application/x-www-form-urlencoded) or JSON.")


MAX_FIELDS = 40  # an address, a source, a honeypot, the topics and a pause


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    return []


def wants_json(request: Request) -> bool:
    kind = request.headers.get("content-type", "")
    accept = request.headers.get("accept", "")
    return kind.startswith("application/json") or (
        "application/json" in accept and "text/html" not in accept
    )


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"

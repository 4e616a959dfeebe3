"""A throwaway PostgreSQL cluster from Debian's package, listening on 127.0.0.1 only."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from asgi_server import free_port


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


def _as_postgres_user(command: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root; CI containers run tests as root.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def postgres_cluster() -> Iterator[str]:
    """Start a cluster; yields a server URL without a database name."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL is not installed: run bin/setup --test")
    home = Path(tempfile.mkdtemp(prefix="press-pg-"))
    if os.geteuid() == 0:
        shutil.chown(home, "postgres")
    data = home / "data"

    def run(program: str, *args: str) -> None:
        command = _as_postgres_user([str(bin_dir / program), *args])
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    run("initdb", "-D", str(data), "-A", "trust", "-U", "press", "--no-sync", "-E", "UTF8")
    port = _start(run, data, home)
    try:
        yield f"postgresql+psycopg://press@127.0.0.1:{port}"
    finally:
        run("pg_ctl", "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(home, ignore_errors=True)


def _start(run: Callable[..., None], data: Path, home: Path, attempts: int = 3) -> int:
    """The port the cluster listens on. A free port can be taken by another test process
    before the server binds it: then another port, at most `attempts` times."""
    for attempt in range(attempts):
        port = free_port()
        options = f"-h 127.0.0.1 -p {port} -k {home} -F -c max_connections=200"
        try:
            run("pg_ctl", "-D", str(data), "-o", options, "-l", str(home / "log"), "-w", "start")
            return port
        except subprocess.CalledProcessError:
            if attempt == attempts - 1 or "already in use" not in (home / "log").read_text():
                raise
    raise AssertionError("unreachable")


def create_database(server: str) -> str:
    """A new empty database on the cluster; returns its URL."""
    from sqlalchemy import create_engine, text

    name = "press_" + uuid.uuid4().hex[:12]
    engine = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return f"{server}/{name}"

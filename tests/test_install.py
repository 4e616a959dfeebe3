"""deploy/install.sh, as far as this machine allows: staged into a folder, then the staged
units checked by `systemd-analyze verify` and the Caddyfile by `caddy validate`; and the
sample environment file names every variable press reads."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO

UNITS = ["press-subscriptions.service", "press-send.service", "press-send.timer"]
UNITS += ["press-backup.service", "press-backup.timer", "press-build.service", "press-build.timer"]


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    stage = tmp_path_factory.mktemp("stage")
    result = subprocess.run(
        ["bash", str(REPO / "deploy" / "install.sh"), "--stage", str(stage)],
        env={**os.environ, "PRESS_INSTALL_SKIP_SETUP": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    # bin/setup is skipped here (it is what the suite's own set-up runs): the staged
    # virtualenv is this one.
    (stage / "srv/leadership-press/.venv").symlink_to(REPO / ".venv")
    return stage


def test_the_install_lays_out_code_settings_and_units(staged: Path):
    prefix = staged / "srv/leadership-press"
    assert (prefix / "bin/setup").is_file() and (prefix / "generator/cli/main.py").is_file()
    assert (staged / "etc/leadership-press/press.env").stat().st_mode & 0o777 == 0o640
    assert (staged / "etc/caddy/Caddyfile").read_bytes() == (REPO / "deploy/Caddyfile").read_bytes()
    for unit in UNITS:
        text = (staged / "etc/systemd/system" / unit).read_text()
        for path in ("/srv/leadership-press", "/etc/leadership-press"):
            assert text.count(path) == text.count(f"{staged}{path}"), unit
    dropin = staged / "etc/systemd/system/caddy.service.d/press.conf"
    assert f"EnvironmentFile={staged}/etc/leadership-press/caddy.env" in dropin.read_text()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd here")
def test_systemd_accepts_the_units(staged: Path, tmp_path: Path):
    folder = staged / "etc/systemd/system"
    verify = ["systemd-analyze", "verify", *UNITS]
    result = subprocess.run(verify, cwd=folder, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr
    broken = tmp_path / "press-send.service"
    broken.write_text(
        (folder / "press-send.service").read_text().replace("ExecStart=", "ExecStar=")
    )
    check = subprocess.run(
        ["systemd-analyze", "verify", str(broken)], capture_output=True, text=True, timeout=60
    )
    assert "ExecStar" in check.stderr  # the check can fail: an unknown key is reported


def test_caddy_accepts_the_caddyfile_with_the_sample_settings(staged: Path):
    values = dict(
        line.split("=", 1)
        for line in (REPO / "deploy/caddy.env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    env = {**os.environ, **values, "PRESS_CADDY_ADMIN": "off", "HOME": str(staged)}
    result = subprocess.run(
        ["caddy", "validate", "--config", str(staged / "etc/caddy/Caddyfile")],
        env={**env, "XDG_DATA_HOME": str(staged / "caddy-data")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and "Valid configuration" in result.stdout + result.stderr


def test_the_sample_environment_names_every_variable_press_reads():
    read = set()
    for path in (REPO / "generator").rglob("*.py"):
        read |= set(re.findall(r'"(PRESS_[A-Z0-9_]+)"', path.read_text(encoding="utf-8")))
    sample = (REPO / "deploy/press.env.example").read_text() + (
        REPO / "deploy/caddy.env.example"
    ).read_text()
    named = set(re.findall(r"^(PRESS_[A-Z0-9_]+)=", sample, re.M))
    assert read - named == set()
    assert {"PRESS_SIGNING_KEY", "PRESS_DKIM_KEY_FILE", "PRESS_DATABASE_URL"} <= named

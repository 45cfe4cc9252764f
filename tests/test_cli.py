"""The `hotline` command as a user runs it, against its own embedded server."""

import os
import subprocess
import sys

import pytest

from conftest import REPO


def hotline(*args, data_dir, check=True):
    env = {**os.environ, "HOTLINE_DATA_DIR": str(data_dir)}
    env.pop("HOTLINE_DSN", None)
    return subprocess.run([sys.executable, "-m", "console.cli", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, check=check, timeout=120)


@pytest.fixture
def data_dir(tmp_path):
    yield tmp_path
    hotline("db", "stop", data_dir=tmp_path, check=False)


def test_init_from_nothing_then_status_and_stop(data_dir):
    first = hotline("db", "init", data_dir=data_dir)
    assert "150 seats" in first.stdout and "166 demo addresses" in first.stdout
    assert "10 demo KB articles" in first.stdout
    second = hotline("db", "init", data_dir=data_dir)
    assert "schema is up to date" in second.stdout and "demo addresses" not in second.stdout
    assert "0 tickets today" in hotline("tickets", data_dir=data_dir).stdout
    status = hotline("db", "status", data_dir=data_dir).stdout
    assert "embedded, running" in status and "none" in status  # no migration pending
    assert "stopped" in hotline("db", "stop", data_dir=data_dir).stdout
    assert "embedded, stopped" in hotline("db", "status", data_dir=data_dir).stdout


def test_bad_seats_file_gives_a_clear_error(data_dir, tmp_path):
    bad = tmp_path / "seats.toml"
    bad.write_text('[[seat]]\nid = 1\nextension = "80"\ngroup = "a"\naudio_device = "x"\nrow = 1\ncol = 1\n')
    result = hotline("seats", "check", str(bad), data_dir=data_dir, check=False)
    assert result.returncode == 2
    assert "seats.toml:3: seat #1, field 'extension'" in result.stderr
    ok = hotline("seats", "check", data_dir=data_dir)
    assert "150 seats OK" in ok.stdout


def test_unreachable_external_database_is_reported(tmp_path):
    env = {**os.environ, "HOTLINE_DSN": "postgresql://x@/hotline?host=/nonexistent",
           "HOTLINE_DATA_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "console.cli", "db", "migrate"], cwd=REPO,
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 3
    assert "database unavailable" in result.stderr and "/nonexistent" in result.stderr

"""Shared fixtures: one real PostgreSQL per test session, a fresh database per test."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import asyncpg
import pytest

from db import migrate
from db.embedded import EmbeddedPostgres
from db.reference import ReferenceStore
from db.roles import ensure_roles
from db.seats import SeatStore
from domain.routing import parse_units
from domain.seats import load_seats
from domain.taxonomy import DEFAULT_TAXONOMY, parse_taxonomy
from domain.tickets import TicketRules

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
TEMPLATE_DB = "hotline_test_template"


async def wait_for(pilot, condition, seconds: float = 60) -> None:
    """Let a Textual app under Pilot run until `condition()` holds (fail after `seconds`)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.1)


def silent_call(path: Path, seconds: float, rate: int = 8000) -> Path:
    """A WAV of silence (sox): a call that lasts, without a voice."""
    if not shutil.which("sox"):
        pytest.skip("sox is not installed (tools/sysdeps.sh installs it)")
    subprocess.run(["sox", "-n", "-r", str(rate), "-c", "1", "-b", "16", str(path), "trim", "0", str(seconds)],
                   check=True)
    return path


def shared_file(relative: str) -> Path:
    """A file from ../shared/data, or skip the test with a clear message."""
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"../shared/data/{relative} not found (shared dev data is not beside the repo)")
    return path


def _with_db(dsn: str, name: str) -> str:
    base, _, query = dsn.partition("?")
    base = base.rsplit("/", 1)[0]
    return f"{base}/{name}" + (f"?{query}" if query else "")


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory) -> EmbeddedPostgres | None:
    """The embedded server of this test session (None with `HOTLINE_TEST_DSN`)."""
    if os.environ.get("HOTLINE_TEST_DSN"):
        yield None
        return
    server = EmbeddedPostgres(tmp_path_factory.mktemp("pg"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pg_admin_dsn(pg_server) -> str:
    """DSN of the maintenance database: `HOTLINE_TEST_DSN` or the embedded server's."""
    return os.environ["HOTLINE_TEST_DSN"] if pg_server is None else pg_server.dsn("postgres")


@pytest.fixture(scope="session")
async def template_db(pg_admin_dsn) -> str:
    admin = await asyncpg.connect(pg_admin_dsn)
    await admin.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}"')
    await admin.execute(f'CREATE DATABASE "{TEMPLATE_DB}"')
    await admin.close()
    conn = await asyncpg.connect(_with_db(pg_admin_dsn, TEMPLATE_DB))
    await migrate.migrate(conn)
    reference = ReferenceStore(conn)
    await reference.import_taxonomy(parse_taxonomy(DEFAULT_TAXONOMY))
    await reference.replace_units(*parse_units())
    await SeatStore(conn).sync(load_seats(REPO / "seats.toml"))
    await conn.close()
    return TEMPLATE_DB


@pytest.fixture(scope="session")
async def app_roles(pg_server, pg_admin_dsn, template_db):
    """The application roles (db/roles.py) with their grants in the template database."""
    if pg_server is None:
        pytest.skip("application roles are tested on the embedded server")
    conn = await asyncpg.connect(_with_db(pg_admin_dsn, template_db))
    await ensure_roles(conn, pg_server.passwords())
    await conn.close()
    return pg_server


@pytest.fixture
def role_dsn(app_roles, dsn):
    """role → the DSN that application role uses for this test's database."""
    name = dsn.partition("?")[0].rsplit("/", 1)[1]
    return lambda role: app_roles.role_dsn(role, name)


@pytest.fixture
async def dsn(pg_admin_dsn, template_db) -> str:
    """A fresh, migrated database with demo reference data, dropped after the test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(pg_admin_dsn)
    await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"')
    await admin.close()
    yield _with_db(pg_admin_dsn, name)
    admin = await asyncpg.connect(pg_admin_dsn)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


@pytest.fixture
async def conn(dsn):
    connection = await asyncpg.connect(dsn)
    yield connection
    await connection.close()


@pytest.fixture(scope="session")
def rules() -> TicketRules:
    return TicketRules.default()

"""The embedded server: start, share, stale pid recovery, clean stop."""

import os
import signal
import time

import asyncpg

from db.embedded import EmbeddedPostgres


def wait_gone(pid: int, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise AssertionError(f"process {pid} still alive")


async def test_two_handles_share_one_server_and_stop_is_clean(tmp_path):
    a, b = EmbeddedPostgres(tmp_path), EmbeddedPostgres(tmp_path)
    dsn = a.start()
    pid = a.status().pid
    assert b.start() == dsn and b.status().pid == pid  # attached, not started twice
    conn = await asyncpg.connect(dsn)
    assert await conn.fetchval("SHOW timezone") == "Asia/Shanghai"
    assert await conn.fetchval("SELECT count(*) FROM pg_extension WHERE extname = 'plpgsql'") == 1
    await conn.close()
    assert b.stop() is True
    assert not a.is_running() and not (a.pgdata / "postmaster.pid").exists()
    assert a.stop() is False


async def test_recovers_after_a_crash_and_from_a_reused_pid(tmp_path):
    server = EmbeddedPostgres(tmp_path)
    dsn = server.start()
    conn = await asyncpg.connect(dsn)
    await conn.execute("CREATE TABLE kept (x int); INSERT INTO kept VALUES (42)")
    await conn.close()
    pid = server.status().pid
    os.kill(pid, signal.SIGKILL)  # crash: postmaster.pid and socket stay behind
    wait_gone(pid)
    assert (server.pgdata / "postmaster.pid").exists()
    time.sleep(0.5)  # let orphaned backends notice and exit
    server.start()
    conn = await asyncpg.connect(dsn)
    assert await conn.fetchval("SELECT x FROM kept") == 42
    await conn.close()
    server.stop()

    # a stale postmaster.pid naming a live process that is not PostgreSQL
    lines = ["%d" % os.getpid(), str(server.pgdata), "0", "5432", str(server.socket_dir), "", "", "stopped"]
    (server.pgdata / "postmaster.pid").write_text("\n".join(lines) + "\n")
    assert not server.is_running()
    server.start()
    assert server.is_running()
    server.stop()


def test_starting_changes_nothing_outside_the_data_dir(tmp_path):
    """The data dir is its owner's alone; no parent of it is opened to the server's user."""
    import stat
    parent = tmp_path / "home"
    parent.mkdir(mode=0o700)
    before = stat.S_IMODE(parent.stat().st_mode), stat.S_IMODE(tmp_path.stat().st_mode)
    server = EmbeddedPostgres(parent / "hotline")
    server.start()
    try:
        assert (stat.S_IMODE(parent.stat().st_mode), stat.S_IMODE(tmp_path.stat().st_mode)) == before
        assert stat.S_IMODE(server.pgdata.stat().st_mode) == 0o700
        if os.geteuid() == 0:  # the unprivileged server user has a tree of its own
            assert not server.pgdata.is_relative_to(parent)
            assert stat.S_IMODE(server.server_root.stat().st_mode) == 0o700
    finally:
        server.stop()

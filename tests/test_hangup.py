"""Crash and hang-up hygiene: one console per seat, seats whose console died are closed, a
console whose terminal goes away signs out and exits; calls are written once."""

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time

import asyncpg
import pytest

from db.calls import CallStore
from db.seats import SeatStore
from domain.seats import SeatStateError
from domain.workdays import now
from conftest import REPO, silent_call


async def test_two_consoles_never_hold_one_seat(conn, dsn):
    seats = SeatStore(conn)
    await seats.ensure_agent(5, "A005")
    await seats.claim(5, "A005", silent_for=30)
    await seats.record_state(5, "A005", "就绪")
    other = await asyncpg.connect(dsn)
    try:
        await other.execute("UPDATE seat_heartbeats SET pid = 1 WHERE seat_id = 5")  # held by another process
        with pytest.raises(SeatStateError, match="座席5已由工号A005签入（进程1"):
            await SeatStore(other).claim(5, "B005", silent_for=30)
        await SeatStore(other).claim(5, "B005", silent_for=30, take_over=True)
        last = await other.fetchrow("SELECT state, reason FROM seat_events WHERE seat_id = 5 ORDER BY id DESC LIMIT 1")
        assert (last["state"], last["reason"]) == ("离线", "由工号B005接管")
        await SeatStore(other).claim(5, "B005", silent_for=30)  # free now
    finally:
        await other.close()


async def test_a_seat_whose_console_died_is_closed_by_whoever_notices(conn, dsn):
    seats, calls = SeatStore(conn), CallStore(conn)
    await seats.ensure_agent(6, "A006")
    await seats.record_state(6, "A006", "就绪")
    await seats.record_state(6, "A006", "通话中")
    call_id = await calls.ring(6, "13805331234", now(), "A006")
    await calls.answer(call_id, now(), "/recordings/seat006.wav")
    await conn.execute("UPDATE seat_heartbeats SET at = now() - interval '2 minutes' WHERE seat_id = 6")
    other = await asyncpg.connect(dsn)
    try:
        closed = await asyncio.gather(seats.close_silent(30), SeatStore(other).close_silent(30))
    finally:
        await other.close()
    assert sorted(closed) == [0, 1]  # two noticers at once: closed once
    last = await conn.fetchrow("SELECT state, reason FROM seat_events WHERE seat_id = 6 ORDER BY id DESC LIMIT 1")
    assert (last["state"], last["reason"]) == ("离线", "心跳中断")
    call = await calls.get(call_id)
    assert call["end_at"] is not None and call["end_reason"] == "座席心跳中断，通话由系统结束"
    assert call["recording_path"] == "/recordings/seat006.wav"  # linked at the answer
    assert await seats.close_silent(30) == 0


async def test_calls_are_written_once_and_audited_tables_refuse_truncate(conn):
    calls = CallStore(conn)
    call_id = await calls.ring(1, "13805331234", now(), None)
    await calls.answer(call_id, now(), "/r/a.wav")
    await calls.add_utterance(call_id, "喂你好", 0.0, 1.0)
    await calls.add_utterance(call_id, "路灯坏了", 1.0, 2.0)  # growing at the end is allowed
    await calls.hang_up(call_id, now(), "/r/a.wav", 2.0)
    refused = [
        "UPDATE calls SET transcript = '[]'::jsonb WHERE id = $1",
        "UPDATE calls SET transcript = jsonb_set(transcript, '{0,text}', '\"改过\"') WHERE id = $1",
        "UPDATE calls SET recording_path = '/elsewhere.wav' WHERE id = $1",
        "UPDATE calls SET end_at = now() WHERE id = $1",
        "UPDATE calls SET caller_number = '13900000000' WHERE id = $1",
        "DELETE FROM calls WHERE id = $1",
    ]
    for statement in refused:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(statement, call_id)
    for table in ("calls", "seat_events", "qa_scores", "tickets", "ticket_events"):
        with pytest.raises(asyncpg.PostgresError, match="append-only|TRUNCATE"):
            await conn.execute(f"TRUNCATE {table} CASCADE")


def test_a_console_whose_terminal_goes_away_signs_out_and_exits(tmp_path):
    for tool in ("tmux", "sox"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} is not installed (tools/sysdeps.sh installs it)")
    call = silent_call(tmp_path / "call.wav", 120)
    env = {**os.environ, "HOTLINE_DATA_DIR": str(tmp_path), "HOTLINE_VOSK_MODEL": ""}
    session = f"hangup-{os.getpid()}"
    command = (f"HOTLINE_DATA_DIR={tmp_path} HOTLINE_VOSK_MODEL= {sys.executable} -m console.cli console "
               f"--seat 4 --agent H004 --call {call} --auto-answer")
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "100", "-y", "30", "-c", str(REPO), command],
                   check=True)

    def query(sql: str) -> str:
        return subprocess.run(
            [sys.executable, "-c",
             "import asyncio, asyncpg, sys\nfrom db import config\n"
             "async def main():\n"
             "    c = await asyncpg.connect(config.resolve_dsn())\n"
             "    print(await c.fetchval(sys.argv[1]))\n"
             "asyncio.run(main())", sql],
            cwd=REPO, env=env, capture_output=True, text=True).stdout.strip()

    try:
        deadline = time.monotonic() + 90
        screen = ""
        while time.monotonic() < deadline and "通话中" not in screen:
            time.sleep(0.5)
            screen = subprocess.run(["tmux", "capture-pane", "-p", "-t", session],
                                    capture_output=True, text=True).stdout
        assert "通话中" in screen, screen
        pid = int(query("SELECT pid FROM seat_heartbeats WHERE seat_id = 4"))
        subprocess.run(["tmux", "kill-session", "-t", session], check=True)  # the terminal is gone: SIGHUP
        gone_at = time.monotonic()
        while _alive(pid) and time.monotonic() - gone_at < 10:
            time.sleep(0.05)
        took = time.monotonic() - gone_at
        assert not _alive(pid), "the console kept running without its terminal"
        assert took <= 3.0, f"took {took:.1f} s to leave"
        assert query("SELECT state || '/' || reason FROM seat_events WHERE seat_id = 4 ORDER BY id DESC LIMIT 1") \
            == "离线/控制台退出：SIGHUP"
        assert query("SELECT end_reason FROM calls WHERE seat_id = 4") == "控制台退出：SIGHUP"
        assert query("SELECT recording_path IS NOT NULL AND end_at IS NOT NULL FROM calls WHERE seat_id = 4") == "True"
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
        subprocess.run([sys.executable, "-m", "console.cli", "db", "stop"], cwd=REPO, env=env, capture_output=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = open(f"/proc/{pid}/stat").read().split(")")[-1].split()[0] if os.path.exists(f"/proc/{pid}/stat") else "X"
    return state not in ("Z", "X")


def test_personal_data_on_disk_is_for_its_owner(tmp_path, monkeypatch):
    from common.paths import data_dir
    from speech.audio import Chunk
    from speech.recorder import CallRecorder
    import numpy as np

    folder = tmp_path / "data"
    folder.mkdir(mode=0o755)
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(folder))
    assert data_dir().stat().st_mode & 0o077 in (0, 0o011)  # nobody else reads or lists it
    recorder = CallRecorder(folder / "recordings" / "2026-11-23" / "seat001.wav")
    recorder(Chunk(np.zeros((800, 1), dtype=np.int16), 0.0))
    recorder.close()
    assert (folder / "recordings" / "2026-11-23" / "seat001.wav").stat().st_mode & 0o777 == 0o600
    assert (folder / "recordings").stat().st_mode & 0o777 == 0o700


async def test_a_transcript_is_corrected_by_new_rows(conn):
    calls = CallStore(conn)
    call_id = await calls.ring(1, "13805331234", now(), None)
    await calls.add_utterance(call_id, "松林花园", 0.0, 1.0)
    await calls.correct(call_id, "Q01", "地址听错", transcript=[{"text": "松龄花园", "start": 0.0, "end": 1.0}])
    await calls.correct(call_id, "Q02", "录音迁移", recording_path="/archive/x.wav")
    corrected = await calls.get(call_id)
    assert json.loads(corrected["transcript"]) == [{"text": "松龄花园", "start": 0.0, "end": 1.0}]
    assert corrected["recording_path"] == "/archive/x.wav"
    original = await conn.fetchrow("SELECT transcript, recording_path FROM calls WHERE id = $1", call_id)
    assert "松林花园" in original["transcript"] and original["recording_path"] is None  # as heard
    with pytest.raises(asyncpg.PostgresError, match="append-only"):
        await conn.execute("DELETE FROM call_corrections")

"""The wallboard, driven with Pilot against a real PostgreSQL while simulated seats work."""

import re

import asyncpg
import pytest

from console.wallboard.app import Wallboard
from console.wallboard.seat_detail import SeatDetailScreen
from console.wallboard.seat_tile import SeatTile
from db.seats import SeatStore
from domain.seats import load_seats
from domain.settings import load_settings
from domain.vocabulary import SeatState
from floor.reference import load_reference
from floor.simulator import FloorSimulation
from conftest import REPO


@pytest.fixture
async def floor(dsn):
    conn = await asyncpg.connect(dsn)
    await load_reference(conn, REPO / "seats.toml")
    await conn.close()
    return load_seats(REPO / "seats.toml")


async def test_wallboard_follows_simulated_seats(dsn, role_dsn, floor, tmp_path):
    limits = load_settings(REPO / "hotline.toml").alerts
    conn = await asyncpg.connect(dsn)
    seats = SeatStore(conn)
    # seat 150: a console that died in a call 2 minutes ago (its heartbeat stopped)
    await seats.ensure_agent(150, "Z150")
    await seats.record_state(150, "Z150", SeatState.READY)
    await seats.record_state(150, "Z150", SeatState.TALKING)
    await conn.execute("UPDATE seat_heartbeats SET at = now() - interval '2 minutes' WHERE seat_id = 150")
    app = Wallboard(role_dsn("supervisor"), floor, limits)
    async with app.run_test(size=(200, 50)) as pilot:
        simulation = FloorSimulation(role_dsn("agent"), floor[:12], seconds=8, speed=60, workdir=tmp_path)
        report = await simulation.run()
        await pilot.pause(1.5)
        rows = await conn.fetch(
            """SELECT DISTINCT ON (seat_id) seat_id, state FROM seat_events
               WHERE seat_id <= 12 ORDER BY seat_id, id DESC""")
        for r in rows:
            assert app.query_one(f"#seat-{r['seat_id']}", SeatTile).view.state == r["state"]
        assert report["tickets_stored"] == report["tickets_submitted"] > 0
        stuck = app.query_one("#seat-150", SeatTile)  # closed by the wallboard, which noticed first
        assert (stuck.view.state, stuck.view.reason) == ("离线", "心跳中断")
        assert "座席150 心跳中断，已由系统签出（Z150）" in str(app.query_one("#alerts").content)
        tickets = await conn.fetchval("SELECT count(*) FROM tickets")
        assert f"工单 {tickets}" in str(app.query_one("#figures").content)
        assert len(app.notify_lags_ms) >= report["seat_events"] - 1
        lags = sorted(app.notify_lags_ms)
        assert lags[int(0.99 * (len(lags) - 1))] < 500
        app.query_one("#seat-1", SeatTile).focus()
        await pilot.press("enter")
        await pilot.pause(0.5)
        assert isinstance(app.screen, SeatDetailScreen)
        # the floor keeps following while a seat's detail is open (ticks and notifications)
        await seats.ensure_agent(149, "Z149")
        await seats.record_state(149, "Z149", SeatState.READY)
        await seats.record_state(149, "Z149", SeatState.BREAK, "培训")
        await pilot.pause(1.5)
        assert app.floor.query_one("#seat-149", SeatTile).view.state == "小休"
        assert isinstance(app.screen, SeatDetailScreen)
    await conn.close()


def test_alerts_moved_from_seats_toml_to_the_settings(tmp_path):
    from domain.seats import SeatsConfigError, parse_seats
    with pytest.raises(SeatsConfigError, match=r"\[alerts\] moved to hotline.toml"):
        parse_seats("[alerts]\nwrapup_minutes = 5\n" + (REPO / "seats.toml").read_text(encoding="utf-8"))


def test_served_wallboard_needs_a_login_and_stays_on_this_machine(tmp_path):
    import base64
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "HOTLINE_DATA_DIR": str(tmp_path), "HOTLINE_WALLBOARD_PASSWORD": "s3cret-board"}
    server = subprocess.Popen([sys.executable, "-m", "console.cli", "wallboard", "--serve", "--port", str(port)],
                              cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url, timeout=2)
            except urllib.error.HTTPError as refused:
                assert refused.code == 401  # no login, no wallboard
                break
            except OSError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        wrong = urllib.request.Request(url, headers={
            "Authorization": "Basic " + base64.b64encode(b"supervisor:guess").decode()})
        with pytest.raises(urllib.error.HTTPError, match="401"):
            urllib.request.urlopen(wrong, timeout=5)
        right = urllib.request.Request(url, headers={
            "Authorization": "Basic " + base64.b64encode(b"supervisor:s3cret-board").decode()})
        page = urllib.request.urlopen(right, timeout=5).read().decode()
        assert f"ws://127.0.0.1:{port}/ws" in page and "0.0.0.0" not in page
        # nothing from the internet: every URL the page loads is this server's
        loaded = re.findall(r'(?:href|src)=["\']([^"\']+)', page) + re.findall(r'url\("?([^")]+)', page)
        assert loaded and all(u.startswith(f"http://127.0.0.1:{port}/") for u in loaded), loaded
        font = urllib.request.Request(f"http://127.0.0.1:{port}/static/fonts/RobotoMono-VariableFont_wght.ttf",
                                      headers=right.headers)
        assert len(urllib.request.urlopen(font, timeout=5).read()) > 10_000
        listening = [line.split()[1] for line in open("/proc/net/tcp").read().splitlines()[1:]
                     if line.split()[3] == "0A"]  # LISTEN
        assert f"0100007F:{port:04X}" in listening  # 127.0.0.1 only
    finally:
        server.terminate()
        server.wait(10)


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_every_seat_is_on_screen_and_arrows_walk_the_floor(dsn, floor, size):
    app = Wallboard(dsn, floor, load_settings(REPO / "hotline.toml").alerts)
    async with app.run_test(size=size) as pilot:
        await pilot.pause(0.5)
        screen = app.screen.region
        tiles = list(app.query(SeatTile))
        assert len(tiles) == 150
        for tile in tiles:  # wholly visible, and saying which seat it is
            assert screen.contains_region(tile.region), (tile.id, tile.region)
            assert f"{tile.view.seat_id:03d}" in str(tile.content)
        assert app.focused.id == "seat-1"
        await pilot.press("right", "right", "down")
        assert app.focused.id == "seat-18"  # row 2, column 3
        await pilot.press("up", "left", "left", "left")  # stops at the edge
        assert app.focused.id == "seat-1"
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert isinstance(app.screen, SeatDetailScreen)

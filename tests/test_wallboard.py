"""The wallboard, driven with Pilot against a real PostgreSQL while simulated seats work."""


import asyncpg
import pytest

from console.commands.db import load_reference
from console.services.simulator import FloorSimulation
from console.wallboard_app import SeatDetail, SeatTile, Wallboard
from db.seat_state import change_state, sign_in
from db.seats import load_seats
from db.wallboard import AlertLimits
from conftest import REPO


@pytest.fixture
async def floor(dsn):
    conn = await asyncpg.connect(dsn)
    await load_reference(conn, REPO / "seats.toml")
    await conn.close()
    return load_seats(REPO / "seats.toml")


async def test_wallboard_follows_simulated_seats(dsn, floor, tmp_path):
    limits = AlertLimits.load(REPO / "seats.toml")
    conn = await asyncpg.connect(dsn)
    # seat 150: a console that died in a call 2 minutes ago (its heartbeat stopped)
    await sign_in(conn, 150, "Z150")
    await change_state(conn, 150, "Z150", "通话中")
    await conn.execute("UPDATE seat_heartbeats SET at = now() - interval '2 minutes' WHERE seat_id = 150")
    app = Wallboard(dsn, floor, limits)
    async with app.run_test(size=(200, 50)) as pilot:
        simulation = FloorSimulation(dsn, floor[:12], seconds=8, speed=60, workdir=tmp_path)
        report = await simulation.run()
        await pilot.pause(1.5)
        rows = await conn.fetch(
            """SELECT DISTINCT ON (seat_id) seat_id, state FROM seat_events
               WHERE seat_id <= 12 ORDER BY seat_id, id DESC""")
        for r in rows:
            assert app.query_one(f"#seat-{r['seat_id']}", SeatTile).view.state == r["state"]
        assert report["tickets_stored"] == report["tickets_submitted"] > 0
        stuck = app.query_one("#seat-150", SeatTile)
        assert stuck.view.state == "通话中" and stuck.view.shown_state(__import__("time").time(), limits) == "离线"
        assert "座席150 心跳中断" in str(app.query_one("#alerts").content)
        tickets = await conn.fetchval("SELECT count(*) FROM tickets")
        assert f"工单 {tickets}" in str(app.query_one("#figures").content)
        assert len(app.notify_lags_ms) >= report["seat_events"] - 1
        lags = sorted(app.notify_lags_ms)
        assert lags[int(0.99 * (len(lags) - 1))] < 500
        app.query_one("#seat-1", SeatTile).focus()
        await pilot.press("enter")
        await pilot.pause(0.5)
        assert isinstance(app.screen, SeatDetail)
        # the floor keeps following while a seat's detail is open (ticks and notifications)
        await sign_in(conn, 149, "Z149")
        await change_state(conn, 149, "Z149", "小休", "培训")
        await pilot.pause(1.5)
        assert app.screen_stack[0].query_one("#seat-149", SeatTile).view.state == "小休"
        assert isinstance(app.screen, SeatDetail)
    await conn.close()


def test_alert_limits_are_validated(tmp_path):
    path = tmp_path / "seats.toml"
    path.write_text("[alerts]\nlong_call_minutes = 0\n")
    with pytest.raises(ValueError, match="positive number"):
        AlertLimits.load(path)
    path.write_text("[alerts]\nlunch = 3\n")
    with pytest.raises(ValueError, match="unknown setting"):
        AlertLimits.load(path)
    path.write_text("[alerts]\nwrapup_minutes = 5\n")
    assert AlertLimits.load(path).wrapup_minutes == 5 and AlertLimits.load(path).offline_seconds == 30

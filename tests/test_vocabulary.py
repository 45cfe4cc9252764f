"""One vocabulary: the enums, the database's CHECK constraints and the display table agree."""

import re

import pytest

from console.display import SEAT_LOOK, TICKET_LOOK
from domain.seats import SEAT_TRANSITIONS, SeatStateError, check_seat_change
from domain.settings import SettingsError, load_settings, parse_settings
from domain.vocabulary import (Channel, HandlingMode, SeatState, TicketStatus, TicketType, Urgency)
from conftest import REPO


async def _check_words(conn, table: str, column: str) -> set[str]:
    """The words a CHECK (column IN (...)) constraint allows, read from the live schema."""
    definitions = await conn.fetch(
        """SELECT pg_get_constraintdef(c.oid) AS def FROM pg_constraint c
           JOIN pg_class t ON t.oid = c.conrelid WHERE t.relname = $1 AND c.contype = 'c'""", table)
    for d in definitions:
        if re.search(rf"\({column} = ANY \(ARRAY\[", d["def"]):
            return set(re.findall(r"'([^']+)'::text", d["def"]))
    raise AssertionError(f"no CHECK on {table}.{column}")


@pytest.mark.parametrize("table, column, words", [
    ("seat_events", "state", SeatState),
    ("tickets", "ticket_type", TicketType),
    ("tickets", "urgency", Urgency),
    ("tickets", "channel", Channel),
    ("tickets", "handling_mode", HandlingMode),
    ("ticket_events", "status", TicketStatus),
])
async def test_database_checks_allow_exactly_the_enum_words(conn, table, column, words):
    assert await _check_words(conn, table, column) == {w.value for w in words}


def test_every_word_has_one_look_on_screen():
    assert set(SEAT_LOOK) == set(SeatState) and set(TICKET_LOOK) == set(TicketStatus)
    assert all(look.label == state.value for state, look in SEAT_LOOK.items())
    assert all(look.label == status.value for status, look in TICKET_LOOK.items())


def test_seat_state_rules():
    assert set(SEAT_TRANSITIONS) == set(SeatState)
    check_seat_change(SeatState.READY, SeatState.TALKING)
    check_seat_change(SeatState.TALKING, SeatState.OFFLINE)  # a console that died mid-call
    with pytest.raises(SeatStateError, match="可变为：话后整理、离线"):
        check_seat_change(SeatState.TALKING, SeatState.READY)
    with pytest.raises(SeatStateError, match="小休须选择原因"):
        check_seat_change(SeatState.READY, SeatState.BREAK, " ")


def test_the_shipped_settings_are_the_defaults():
    shipped = load_settings(REPO / "hotline.toml")
    defaults = parse_settings("")
    assert (shipped.tickets, shipped.alerts, shipped.lifecycle, shipped.console) == (
        defaults.tickets, defaults.alerts, defaults.lifecycle, defaults.console)


@pytest.mark.parametrize("text, message", [
    ("[alerts]\nlong_call_minutes = 0\n", r"x.toml:2: \[alerts\] long_call_minutes must be positive"),
    ("[alerts]\nlunch = 3\n", r"x.toml:2: \[alerts\] unknown key 'lunch'"),
    ("[alerts]\nbreak_minutes = \"soon\"\n", r"x.toml:2: \[alerts\] break_minutes must be a number"),
    ("[console]\nkb_utterances = 2.5\n", r"x.toml:2: \[console\] kb_utterances must be a whole number"),
    ("[tickets]\ndeadline_days = { \"咨询\" = 1, \"催办\" = 2 }\n", r"x.toml:2: \[tickets\] deadline_days unknown ticket type\(s\) 催办"),
    ("[tickets]\ndeadline_days = { \"投诉\" = -1 }\n", r"x.toml:2: .*投诉 must be whole working days"),
    ("\n[wallboard]\n", r"x.toml:2: unknown table \[wallboard\]"),
    ("[alerts\n", r"x.toml: not valid TOML"),
])
def test_bad_settings_name_line_and_key(text, message):
    with pytest.raises(SettingsError, match=message):
        parse_settings(text, "x.toml")


def test_settings_file_errors(tmp_path):
    with pytest.raises(SettingsError, match="file not found"):
        load_settings(tmp_path / "missing.toml")
    with pytest.raises(SettingsError, match="is a directory"):
        load_settings(tmp_path)
    (tmp_path / "latin1.toml").write_bytes("[alerts]\n# café\n".encode("latin-1"))
    with pytest.raises(SettingsError, match="not UTF-8"):
        load_settings(tmp_path / "latin1.toml")
    (tmp_path / "ok.toml").write_text("[alerts]\nwrapup_minutes = 5\n", encoding="utf-8")
    alerts = load_settings(tmp_path / "ok.toml").alerts
    assert alerts.wrapup_minutes == 5 and alerts.offline_seconds == 30

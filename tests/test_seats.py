import pytest

from db.seats import SeatStore
from domain.seats import SeatsConfigError, load_seats, parse_seats
from conftest import REPO

GOOD = """
[defaults]
audio_device = "default"

[[seat]]
id = 1
extension = "8001"
group = "一组"
row = 1
col = 1

[[seat]]
id = 2
extension = "8002"
group = "一组"
audio_device = 3
row = 1
col = 2
"""


def test_shipped_seats_toml_has_150_seats_on_the_floor():
    seats = load_seats(REPO / "seats.toml")
    assert len(seats) == 150
    assert len({(s.row, s.col) for s in seats}) == 150
    assert {s.extension for s in seats} == {str(8000 + i) for i in range(1, 151)}


def test_defaults_and_device_index():
    seats = parse_seats(GOOD)
    assert seats[0].audio_device == "default" and seats[1].audio_device == 3


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace('extension = "8002"', 'extension = "8001"'),
     r"seats.toml:14: seat #2, field 'extension': duplicate extension '8001'"),
    (lambda t: t.replace("id = 2", "id = 1"),
     r"seats.toml:13: seat #2, field 'id': duplicate id 1"),
    (lambda t: t.replace("col = 2", "col = 1"),
     r"seats.toml:17: seat #2, field 'row': duplicate place"),
    (lambda t: t.replace('extension = "8001"', "extension = 8001"),
     r"seats.toml:7: seat #1, field 'extension': must be a string of 3-8 digits"),
    (lambda t: t.replace("row = 1\ncol = 1", "col = 1"),
     r"seats.toml:5: seat #1, field 'row': missing"),
    (lambda t: t.replace("row = 1\ncol = 2", "row = 0\ncol = 2"),
     r"seats.toml:17: seat #2, field 'row': must be an integer from 1 to 100, got 0"),
    (lambda t: t.replace('group = "一组"\nrow = 1\ncol = 1', 'group = "一组"\nrow = 1\ncol = 1\nfloor = 3'),
     r"seats.toml:11: seat #1, field 'floor': unknown field"),
    (lambda t: t.replace('id = 1\n', 'id = \n'),
     r"seats.toml: not valid TOML: .*line 6"),
    (lambda t: t.replace('[[seat]]', '[[seats]]'),
     r"unknown section\(s\): seats"),
])
def test_malformed_seats_name_line_and_field(edit, message):
    with pytest.raises(SeatsConfigError, match=message):
        parse_seats(edit(GOOD))


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(SeatsConfigError, match="file not found"):
        load_seats(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"\xff\xfe\x00id")
    with pytest.raises(SeatsConfigError, match="not UTF-8"):
        load_seats(bad)


async def test_sync_seats_is_idempotent_and_allows_swapping_places(conn):
    seats = parse_seats(GOOD)
    assert await SeatStore(conn).sync(seats) == 2
    swapped = parse_seats(GOOD.replace("col = 1", "col = X").replace("col = 2", "col = 1")
                          .replace("col = X", "col = 2"))
    await SeatStore(conn).sync(swapped)
    rows = await conn.fetch("SELECT id, floor_col FROM seats WHERE id <= 2 ORDER BY id")
    assert [(r["id"], r["floor_col"]) for r in rows] == [(1, 2), (2, 1)]

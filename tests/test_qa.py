"""Quality inspection: sampling, pre-checks on real recordings, immutable scores, masking,
reports, and the inspector's screen driven with Pilot."""

import csv
import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

import asyncpg
import pytest

from floor.reference import load_reference
from quality.checks import CheckResult, run_check
from quality.config import QaConfigError, load_qa
from domain.privacy import mask
from quality.sampling import draw_sample
from quality.scores import current_score, submit_score, write_report
from console.qa.app import QaApp
from domain.tickets import TicketDraft, TicketRules
from db.qa import QaStore
from db.tickets import TicketStore
from domain.workdays import SHANGHAI
from speech.analysis import analyse
from speech.playback import load_recording
from conftest import REPO

DAY = dt.date(2026, 11, 22)
SAMPLING, RUBRIC = load_qa(REPO / "qa.toml")
GOOD_TRANSCRIPT = [
    {"text": "您好，12345热线，请讲", "start": 0.5, "end": 2.0},
    {"text": "我住松龄花园3号楼，楼道灯坏了", "start": 3.0, "end": 6.0},
    {"text": "好的，您是松龄花园3号楼对吧，请您稍等", "start": 7.0, "end": 10.0},
    {"text": "感谢您的来电，再见", "start": 20.0, "end": 22.0},
]


def at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(DAY, dt.time(hour, minute), tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def recordings(tmp_path_factory) -> dict[str, Path]:
    for tool in ("espeak-ng", "sox"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} is not installed (tools/sysdeps.sh installs it)")
    folder = tmp_path_factory.mktemp("rec")
    speech = folder / "speech.wav"
    subprocess.run(["espeak-ng", "-v", "cmn", "-w", str(folder / "raw.wav"), "您好，12345热线，请讲。感谢您的来电，再见。"],
                   check=True)
    subprocess.run(["sox", str(folder / "raw.wav"), "-r", "16000", "-c", "1", "-b", "16", str(speech)], check=True)
    quiet = folder / "quiet.wav"  # mostly silence: the agent left the caller waiting
    subprocess.run(["sox", str(speech), str(quiet), "pad", "0", "20"], check=True)
    stereo = folder / "stereo.wav"  # caller and agent on separate channels, speaking at once
    subprocess.run(["sox", "-M", str(speech), str(speech), str(stereo)], check=True)
    return {"speech": speech, "quiet": quiet, "stereo": stereo}


async def make_call(conn, agent: str, start: dt.datetime, minutes: float, recording: Path | None,
                    transcript=GOOD_TRANSCRIPT) -> int:
    return await conn.fetchval(
        """INSERT INTO calls (seat_id, agent_id, caller_number, ring_at, answer_at, end_at, recording_path,
                              recording_seconds, transcript)
           VALUES (1, $1, '13805331234', $2::timestamptz, $2::timestamptz + interval '5 seconds',
                   $2::timestamptz + make_interval(secs => $3::float8),
                   $4, $3, $5::jsonb) RETURNING id""",
        agent, start, minutes * 60, str(recording) if recording else None, json.dumps(transcript, ensure_ascii=False))


@pytest.fixture
async def day_of_calls(dsn, recordings):
    conn = await asyncpg.connect(dsn)
    await load_reference(conn, REPO / "seats.toml")
    await conn.execute("INSERT INTO agents (id, name, hired_on) VALUES ('A1', '老张', '2020-01-01'), "
                       "('A2', '小李', '2026-11-10')")
    ids = {}
    for i in range(5):
        ids[f"a1-{i}"] = await make_call(conn, "A1", at(9, i * 10), 3, recordings["speech"])
    ids["long"] = await make_call(conn, "A1", at(11), 25, recordings["speech"])
    ids["quiet"] = await make_call(conn, "A1", at(12), 2, recordings["quiet"])
    ids["new"] = await make_call(conn, "A2", at(13), 3, recordings["stereo"])
    store = TicketStore(conn, TicketRules.default())
    complaint = await store.submit(TicketDraft(ticket_type="投诉", content="楼道灯坏了", caller_number="13805331234",
                                               unit_code="ZD", call_id=ids["a1-0"],
                                               address_code="370303009001200103", address_text="松龄花园3号楼"))
    returned = await store.submit(TicketDraft(ticket_type="求助", content="停水", caller_number="13805331234",
                                              unit_code="ZD", call_id=ids["a1-1"]))
    await store.append_status(returned.id, "退单", actor="ZD")
    await conn.execute("INSERT INTO calls (seat_id, agent_id, caller_number, ring_at) VALUES (1, 'A1', '110', $1)",
                       at(14))  # missed call: never sampled
    yield conn, ids, complaint
    await conn.close()


async def test_sample_is_reproducible_with_risk_signals(day_of_calls):
    conn, ids, _ = day_of_calls
    first = await draw_sample(conn, DAY, SAMPLING)
    second = await draw_sample(conn, DAY, SAMPLING)
    assert first == second
    reasons = dict(first)
    assert "超长通话" in reasons[ids["long"]]
    assert "投诉工单" in reasons[ids["a1-0"]] and "工单退单" in reasons[ids["a1-1"]]
    assert "新员工" in reasons[ids["new"]]
    assert any(r.startswith("静默") for r in reasons[ids["quiet"]])
    randomly = [c for c, r in first if "随机抽取" in r]
    assert len(randomly) == 3  # two of A1's calls, A2's only call
    assert await conn.fetchval("SELECT count(*) FROM qa_samples WHERE sample_date = $1", DAY) == len(first)


def test_prechecks_with_evidence(recordings):
    names = ["松龄花园"]
    results = {item.key: run_check(item.check, GOOD_TRANSCRIPT, names, analyse(load_recording(recordings["stereo"])))
               for item in RUBRIC.items}
    assert results["greeting"].passed and results["greeting"].evidence.startswith("00:00")
    assert results["closing"].passed and "再见" in results["closing"].evidence
    assert results["address"].passed and "00:03" in results["address"].evidence
    assert results["polite"].passed
    assert results["accurate"].passed is None  # for the inspector alone
    assert results["talk_over"].passed is False  # both channels speak at once
    rude = [{"text": "说", "start": 0}, {"text": "松龄花园", "start": 3}, {"text": "行了", "start": 9}]
    assert not run_check("greeting", rude, names, None).passed
    assert not run_check("closing", rude, names, None).passed
    assert not run_check("address_read_back", rude, names, None).passed
    # sides told apart: only the agent's own words count — a citizen's 你好 or 再见 does not
    sides = [{"text": "你好，我家路灯坏了", "start": 0.5, "speaker": "市民"},
             {"text": "嗯，说吧", "start": 2.0, "speaker": "话务员"},
             {"text": "松龄花园，谢谢，再见", "start": 9.0, "speaker": "市民"}]
    assert not run_check("greeting", sides, names, None).passed
    assert not run_check("closing", sides, names, None).passed
    assert not run_check("address_read_back", sides, names, None).passed
    sides_good = [{**u, "speaker": "话务员" if u["start"] != 3.0 else "市民"} for u in GOOD_TRANSCRIPT]
    assert run_check("greeting", sides_good, names, None).passed
    assert run_check("closing", sides_good, names, None).passed
    no_headset = [{**u, "speaker": "市民"} for u in GOOD_TRANSCRIPT]
    assert run_check("greeting", no_headset, names, None) == CheckResult(None, "话务员一侧无转写")
    quiet = analyse(load_recording(recordings["quiet"]))
    assert quiet.silence_ratio > 0.5 and run_check("silence", [], [], quiet).passed is False
    mono = analyse(load_recording(recordings["speech"]))
    assert mono.talk_over_ratio is None and run_check("talk_over", [], [], mono).passed is None


async def test_scores_are_immutable_and_corrected_by_new_records(day_of_calls):
    conn, ids, _ = day_of_calls
    passed = {i.key: True for i in RUBRIC.items}
    with pytest.raises(ValueError, match="score every item"):
        await submit_score(conn, ids["a1-0"], "Q01", RUBRIC, {"greeting": True}, {})
    first = await submit_score(conn, ids["a1-0"], "Q01", RUBRIC, passed, {}, "来电人 13805331234 很满意")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await conn.execute("UPDATE qa_scores SET total = 0")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await conn.execute("DELETE FROM qa_scores")
    corrected = await submit_score(conn, ids["a1-0"], "Q02", RUBRIC, {**passed, "accurate": False}, {},
                                   corrects_id=first)
    current = await current_score(conn, ids["a1-0"])
    assert current["id"] == corrected and current["corrects_id"] == first
    assert float(current["total"]) == RUBRIC.max_total - 30
    assert "138****1234" in (await conn.fetchval("SELECT comment FROM qa_scores WHERE id = $1", first))


@pytest.mark.parametrize("raw, masked", [
    ("13805331234", "138****1234"),
    ("来电 0533-2181234 反映", "来电 0533-***1234 反映"),
    ("身份证370303199001011234号", "身份证370303********1234号"),
    ("身份证37030319900101123X", "身份证370303********123X"),
    ("3号楼1502室", "3号楼1502室"),
    # as speech and people write numbers
    ("我的电话幺三八零五三三幺二三四", "我的电话幺三八****幺二三四"),
    ("一 三 八 零 五 三 三 一 二 三 四", "一 三 八 * * * * 一 二 三 四"),
    ("138 0533 1234", "138 **** 1234"),
    ("+86 138-0533-1234", "+86 138-****-1234"),
    ("8613805331234", "86138****1234"),
    ("０５３３－２１８１２３４", "０５３３－***１２３４"),
    ("010-12345678", "010-****5678"),
    ("身份证号三七零三零三一九九零零一零一一二三X", "身份证号三七零三零三********一二三X"),
    ("工单20261123-0001，地址码370303009001", "工单20261123-0001，地址码370303009001"),
    ("二零二六年十一月，一共12345678元", "二零二六年十一月，一共12345678元"),
])
def test_phone_and_id_numbers_are_masked(raw, masked):
    assert mask(raw) == masked


async def test_daily_report_per_agent(day_of_calls, tmp_path):
    conn, ids, _ = day_of_calls
    passed = {i.key: True for i in RUBRIC.items}
    await submit_score(conn, ids["a1-0"], "Q01", RUBRIC, passed, {})
    await submit_score(conn, ids["a1-2"], "Q01", RUBRIC, {**passed, "greeting": False}, {})
    await submit_score(conn, ids["new"], "Q01", RUBRIC, {**passed, "address": False}, {})
    path = tmp_path / "report.csv"
    assert await write_report(conn, DAY, path) == 2
    with open(path, encoding="utf-8-sig") as fh:
        rows = {r["工号"]: r for r in csv.DictReader(fh)}
    assert rows["A1"]["质检通话数"] == "2" and rows["A1"]["开场白通过率"] == "50%"
    assert rows["A2"]["平均得分"] == f"{RUBRIC.max_total - 20:.1f}"


def test_bad_rubric_is_explained(tmp_path):
    path = tmp_path / "qa.toml"
    path.write_text('[rubric]\nname = "x"\n[[rubric.group]]\nname = "g"\nitems = [{ key = "a", name = "A", points = 5, check = "mind_reading" }]\n')
    with pytest.raises(QaConfigError, match="unknown check"):
        load_qa(path)
    path.write_text("[sampling]\nper_agent = -1\n")
    with pytest.raises(QaConfigError, match="non-negative"):
        load_qa(path)


async def test_inspector_screen(day_of_calls, dsn, role_dsn):
    conn, ids, _ = day_of_calls
    await draw_sample(conn, DAY, SAMPLING)
    app = QaApp(role_dsn("inspector"), DAY, "Q09", RUBRIC)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = app.main  # the named inspection screen
        assert app.screen is screen
        await pilot.pause(0.3)
        assert len(screen.sample) >= 4
        first = str(app.query_one("#sample").get_option_at_index(0).prompt)
        assert "138****1234" in first
        assert f"{screen.sample[0]['ring_at'].astimezone(SHANGHAI):%H:%M}" in first  # local time, not UTC
        await screen.load_call(ids["a1-0"])
        await pilot.pause(0.2)
        assert screen.player is not None and screen.player.duration > 1
        assert screen.passed["greeting"] and screen.passed["address"]  # pre-checks on the transcript
        screen.player.seek(7.5)  # as playback moves, the transcript follows
        await pilot.pause(0.2)
        assert screen.current_line == 2
        app.query_one("#lines").highlighted = 0
        screen.action_jump()
        assert screen.player.position == pytest.approx(0.5, abs=0.01)
        screen.action_speed(0.5)
        assert screen.player.speed == 1.5
        app.query_one("#items").highlighted = 0
        screen.action_toggle_item()  # the inspector overrides the greeting check
        assert screen.passed["greeting"] is False
        await screen.action_submit()
        screen.passed["greeting"] = True
        await screen.action_submit()  # a second submission is a correction
    rows = await conn.fetch("SELECT id, corrects_id, total, inspector FROM qa_scores WHERE call_id = $1 ORDER BY id",
                            ids["a1-0"])
    assert len(rows) == 2 and rows[1]["corrects_id"] == rows[0]["id"]
    assert float(rows[0]["total"]) == RUBRIC.max_total - 10 and float(rows[1]["total"]) == RUBRIC.max_total


async def test_the_sample_is_capped_and_the_riskiest_come_first(day_of_calls):
    from dataclasses import replace

    from quality.sampling import risk_score
    conn, ids, _ = day_of_calls
    whole = await draw_sample(conn, DAY, replace(SAMPLING, daily_cap=0))
    scores = [risk_score(r) for _, r in whole]
    assert scores == sorted(scores, reverse=True) and scores[0] > scores[-1]
    assert whole[0][0] == ids["a1-1"]  # the returned ticket's call
    capped = await draw_sample(conn, DAY, replace(SAMPLING, daily_cap=3, random_share=0.34))
    assert len(capped) == 3 and sum("随机抽取" in r for _, r in capped) >= 1
    risky = sorted((c for c, r in whole if risk_score(r)), key=lambda c: -risk_score(dict(whole)[c]))
    assert [c for c, r in capped if "随机抽取" not in r] == [c for c in risky if c in dict(capped)][:2]
    listed = await QaStore(conn).sample(DAY)  # the redraw replaced the longer list
    assert [r["call_id"] for r in listed] == [c for c, _ in capped]


async def test_inspector_keys_act_on_the_highlighted_row(day_of_calls, role_dsn):
    conn, ids, _ = day_of_calls
    sample = await draw_sample(conn, DAY, SAMPLING)
    app = QaApp(role_dsn("inspector"), DAY, "Q09", RUBRIC, output_device="no-such-device")
    async with app.run_test(size=(140, 40)) as pilot:
        screen = app.main
        await pilot.pause(0.5)
        assert screen.call_id == sample[0][0]  # the riskiest is open without a key
        before = screen.passed[RUBRIC.items[0].key]
        await pilot.press("t")  # acts on the first item at once
        assert screen.passed[RUBRIC.items[0].key] is (not before)
        await pilot.press("ctrl+s")
        await pilot.pause(0.3)
        first = str(app.query_one("#sample").get_option_at_index(0).prompt)
        assert "✔已评" in first and "已评 1" in str(app.query_one("#title").content)
        await pilot.press("down")
        await pilot.pause(0.3)
        assert screen.call_id == sample[1][0]
        await pilot.press("space")  # no such playback device: a message, not a traceback
        await pilot.pause(0.2)
        assert any("无法回放" in n.message for n in app._notifications)

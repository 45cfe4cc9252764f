"""Bad input never gives a traceback: every file reader refuses damaged files with its own
error naming the file (fuzzed with hypothesis from the real files), and the cases a hostile
tester tried by hand each get a clear message."""

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.routing import DEFAULT_UNITS, UnitsConfigError, parse_units
from domain.seats import SeatsConfigError, load_seats
from domain.settings import SettingsError, load_settings
from domain.taxonomy import DEFAULT_TAXONOMY, TaxonomyError, parse_taxonomy
from geo.gazetteer import GazetteerError, read_csv
from geo.service import DEMO_GAZETTEER
from kb.articles import ArticleError, read_articles
from kb.library import DEMO_KB
from quality.config import QaConfigError, load_qa
from conftest import REPO


def _gazetteer(path):
    return list(read_csv(path))


def _articles(path):
    return list(read_articles(path))


def _demo_jsonl():
    """The demo KB (a folder of Markdown) as one JSONL file, to damage."""
    import tempfile
    from pathlib import Path
    from kb.articles import write_jsonl
    path = Path(tempfile.mkdtemp(prefix="kb-fuzz-")) / "articles.jsonl"
    write_jsonl(read_articles(DEMO_KB), path)
    return path


READERS = {  # name: (reader, its error, a real file to damage, file name)
    "seats": (load_seats, SeatsConfigError, REPO / "seats.toml", "seats.toml"),
    "settings": (load_settings, SettingsError, REPO / "hotline.toml", "hotline.toml"),
    "units": (parse_units, UnitsConfigError, DEFAULT_UNITS, "units.toml"),
    "taxonomy": (parse_taxonomy, TaxonomyError, DEFAULT_TAXONOMY, "taxonomy.csv"),
    "gazetteer": (_gazetteer, GazetteerError, DEMO_GAZETTEER, "gazetteer.csv"),
    "kb": (_articles, ArticleError, _demo_jsonl(), "articles.jsonl"),
    "qa": (load_qa, QaConfigError, REPO / "qa.toml", "qa.toml"),
}

DAMAGE = st.lists(st.tuples(st.floats(0, 1), st.sampled_from([
    b"\x00", b"\xff\xfe", b"\n", b"\"", b"[", b"]]", b"=", b",", b"\t", b"{", b"}", b"\xe4\xb8",
    "１２".encode(), "٣".encode(), b"-1", b"99999999999", b"1e999", b"[[seat]]\n", b"\r",
    b"\"\"\"", b"#", b"a" * 3000])), min_size=1, max_size=6)


def _damaged(original: bytes, cuts) -> bytes:
    data = original[:20000]
    for where, what in cuts:
        at = int(where * len(data))
        data = data[:at] + what + data[at + random.Random(at).randint(0, 3):]
    return data


@pytest.mark.parametrize("name", sorted(READERS))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cuts=DAMAGE)
def test_damaged_files_give_the_readers_own_error(name, cuts, tmp_path):
    reader, error, original, filename = READERS[name]
    path = tmp_path / filename
    path.write_bytes(_damaged(original.read_bytes(), cuts))
    try:
        reader(path)
    except error as exc:
        assert str(path) in str(exc) or filename in str(exc), exc


@pytest.mark.parametrize("name", sorted(READERS))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400))
def test_random_bytes_give_the_readers_own_error(name, data, tmp_path):
    reader, error, _, filename = READERS[name]
    path = tmp_path / filename
    path.write_bytes(data)
    try:
        reader(path)
    except error:
        pass


@pytest.mark.parametrize("name", sorted(READERS))
def test_a_directory_or_a_missing_file(name, tmp_path):
    reader, error, _, filename = READERS[name]
    with pytest.raises(error, match="is a directory|not a file"):
        reader(tmp_path)
    with pytest.raises(error, match="not found|No such file"):
        reader(tmp_path / "missing" / filename)


SEATS_HEAD = "[defaults]\naudio_device = \"default\"\n"


@pytest.mark.parametrize("text, message", [
    ("defaults = 5\n[[seat]]\nid = 1\n", r"'defaults' must be a table"),
    (SEATS_HEAD + "[[seat]]\nid = 1\nextension = \"8001\\n\"\ngroup = \"g\"\nrow = 1\ncol = 1\n",
     r"seats.toml:5: seat #1, field 'extension': must be a string of 3-8 digits"),
    (SEATS_HEAD + "[[seat]]\nid = 1\nextension = \"８００１\"\ngroup = \"g\"\nrow = 1\ncol = 1\n",
     r"field 'extension': must be a string of 3-8 digits"),
    (SEATS_HEAD + "[[seat]]\nid = 1\nextension = \"٨٠٠١\"\ngroup = \"g\"\nrow = 1\ncol = 1\n",
     r"field 'extension': must be a string of 3-8 digits"),
    (SEATS_HEAD + "[[seat]]\nid = 4294967296\nextension = \"8001\"\ngroup = \"g\"\nrow = 1\ncol = 1\n",
     r"seats.toml:4: seat #1, field 'id': must be a positive integer below 2147483648"),
    (SEATS_HEAD + "[[seat]]\nid = 1\nextension = \"8001\"\ngroup = \"g\\u0000\"\nrow = 1\ncol = 1\n",
     r"field 'group': must be a non-empty string"),
])
def test_seats_cases_tried_by_hand(text, message, tmp_path):
    path = tmp_path / "seats.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SeatsConfigError, match=message):
        load_seats(path)


def test_wrong_encoding_names_the_file(tmp_path):
    path = tmp_path / "seats.toml"
    path.write_bytes("[defaults]\n# 座席\n".encode("gbk"))
    with pytest.raises(SeatsConfigError, match=r"seats.toml:2: not UTF-8 text"):
        load_seats(path)
    csv = tmp_path / "taxonomy.csv"
    csv.write_bytes("l1_code,l1,l2_code,l2,l3_code,l3\n01,城乡建设,0101,安全,010101,事故\n".encode("gbk"))
    with pytest.raises(TaxonomyError, match=r"taxonomy.csv(:\d+)?: not UTF-8"):
        parse_taxonomy(csv)


def test_a_level_3_category_under_an_empty_level_2_is_refused(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("l1_code,l1,l2_code,l2,l3_code,l3\n01,城乡建设,,,010101,事故\n", encoding="utf-8")
    with pytest.raises(TaxonomyError, match=r"t.csv:2: level 3 .* without level 2"):
        parse_taxonomy(path)


def test_qa_settings_of_the_wrong_type(tmp_path):
    path = tmp_path / "qa.toml"
    path.write_text((REPO / "qa.toml").read_text(encoding="utf-8").replace(
        "long_call_minutes = 10", "long_call_minutes = \"soon\""), encoding="utf-8")
    with pytest.raises(QaConfigError, match="long_call_minutes"):
        load_qa(path)


def test_markdown_questions_must_be_a_list(tmp_path):
    from kb.articles import parse_markdown
    text = "+++\nid = \"zb-x\"\ntitle = \"标题\"\nquestions = \"怎么办理\"\n+++\n答案。\n"
    with pytest.raises(ArticleError, match="questions"):
        parse_markdown(text, "x.md")

"""geo: normalisation, sound keys, the matcher on the demo gazetteer, import, cache, eval."""

import json
import os
import subprocess
import sys

import pytest

from geo.evaluate import NONE, Query, evaluate, matcher_predict, read_queries
from geo.gazetteer import GazetteerError, read_csv
from geo.index import AddressIndex
from geo.matcher import NAMESAKE, NOT_FOUND, UNSURE, AddressMatcher
from geo.noise import noisy_queries
from geo.service import DEMO_GAZETTEER, AddressTracker, load_index
from geo.service import import_csv
from common.zhtext import SoundKey
from geo.text import normalize
from conftest import REPO, shared_file


@pytest.mark.parametrize("spoken, written", [
    ("松龄花园三号楼二单元五零二", "松龄花园3号楼2单元502"),
    ("一百四十五号", "145号"),
    ("两百九十五号", "295号"),
    ("幺二号楼", "12号楼"),
    ("第十一栋", "11号楼"),
    ("二十栋", "20号楼"),
    ("太平路三十四杠一号", "太平路34-1号"),
    ("西关二村一百零五号", "西关二村105号"),  # a numeral inside a name stays a name
    ("嗯，那个什么，就是华光路四十五号院", "华光路45号院"),
    ("二七零六", "2706"),
    # numbering words heard as other characters of their sound
    ("新元学校十四号漏二单元", "新元学校14号楼2单元"),
    ("齐盛花园 三 好 搂 二 担 元", "齐盛花园3号楼2单元"),
    ("和平路五号漏水了", "和平路5号漏水了"),  # door 5 leaking, not building 5
    ("凤凰原著 二 十 八 号 搂电梯又坏了", "凤凰原著28号楼电梯又坏了"),  # but building 28's lift
    ("华侨城十十三组团", "华侨城十三组团"),  # a stutter on 十; 幺二二号 stays 122号
    ("幺二二号", "122号"),
    # a particle heard inside a number is a filler: the number runs on
    ("桓公路二这七八号旁边", "桓公路278号旁边"),
    ("槐荫路98的2号院", "槐荫路982号院"),
    ("西关二村的三号楼", "西关二村的3号楼"),  # but not between a name's numeral and a number
])
def test_normalize_spoken_numbers_and_fillers(spoken, written):
    assert normalize(spoken) == written


@pytest.mark.parametrize("a, b", [
    ("松龄路", "松林路"),   # homophone after in/ing folding
    ("南定", "兰定"),      # n/l
    ("福园", "湖园"),      # f/h
    ("张店", "脏店"),      # zh/z
    ("生活区", "森活区"),  # sh/s, eng/en
    ("西2路", "西尔路"),   # a digit sounds like its numeral
])
def test_dialect_pairs_share_a_sound_key(a, b):
    key = SoundKey()
    assert key.key(normalize(a)) == key.key(normalize(b))


def test_different_names_have_different_keys():
    key = SoundKey()
    assert key.key("松龄路") != key.key("柳泉路")


@pytest.fixture(scope="module")
def demo():
    return AddressMatcher(AddressIndex.build(read_csv(DEMO_GAZETTEER)))


@pytest.mark.parametrize("heard, code, level", [
    ("那个松龄花园三号楼二单元楼道漏水", "370303009001200103", "building"),
    ("松林花园3号楼", "370303009001200103", "building"),          # homophone
    ("我住松宁花园三栋", "370303009001200103", "building"),        # dialect n/l, 栋
    ("马尚街道松龄社区人民西路四十五号门口占道经营", "370303009001400003", "door"),
    ("人民西路45号", "370303009001400003", "door"),
    ("我家在东寨村一百号，院墙倒了", "370303009003102000", "village_house"),
    ("东寨村委会附近有人烧垃圾", "370303009003", "community"),
    ("张店区松龄花园", "370303009001200100", "compound"),
])
def test_demo_matches(demo, heard, code, level):
    result = demo.match_uncached(heard)
    assert result.confident, result
    assert result.best.address.address_code == code
    assert result.best.level == level
    assert result.best.address.town == "马尚街道"
    assert bool(result.best.address.grid) == (level != "community")  # a community spans its grids


@pytest.mark.parametrize("heard", [
    "幸福里小区五号楼停水了",
    "锦绣华庭三号楼",
    "张店区这边停电了",
    "你好，我想咨询一下公积金怎么提取",
    "",
])
def test_no_confident_match_for_addresses_not_in_the_gazetteer(demo, heard):
    assert not demo.match_uncached(heard).confident


def test_building_the_compound_does_not_have_falls_back_to_the_compound(demo):
    result = demo.match_uncached("松龄花园九十九号楼")
    assert result.confident and result.best.level == "compound"


def test_the_matcher_reads_only_the_last_200_characters(demo):
    """Input is bounded (the cost grows with the text): what came before does not count."""
    said = "我住马尚街道松龄花园三号楼二单元"
    noise = "啊" * 19_000 + "张店区人民公园东门"  # an earlier address, long ago in the call
    assert demo.match(noise + "，" * 200 + said).matches == demo.match(said).matches
    assert demo.match(noise + said).matches[0].address == demo.match(said).matches[0].address
    assert not demo.match(None).matches and not demo.match_uncached("x" * 50_000).matches


def test_tracker_keeps_the_address_through_small_talk(demo):
    tracker = AddressTracker(demo)
    transcript = "喂你好，我想反映个问题，我住松龄花园三号楼"
    assert tracker.update(transcript).best.level == "building"
    transcript += "，楼道里的灯坏了好几天了，麻烦你们尽快派人来修一下，谢谢，还有那个垃圾桶也满了"
    assert tracker.update(transcript).best.address.address_code == "370303009001200103"


def test_invalid_rows_are_reported_with_line_numbers(tmp_path):
    lines = DEMO_GAZETTEER.read_text(encoding="utf-8").splitlines()
    bad = lines[:4] + [lines[4].replace(",building,", ",tower,"), lines[5].replace(",370302,", ",37x302,", 1)]
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(bad) + "\n", encoding="utf-8")
    errors = []
    rows = list(read_csv(path, on_error=errors.append))
    assert len(rows) == 3
    assert [e.line for e in errors] == [5, 6]
    assert "level must be one of" in str(errors[0])
    with pytest.raises(GazetteerError, match="line 5"):
        list(read_csv(path))


async def test_import_is_idempotent_and_strict_refuses_bad_files(conn, tmp_path):
    report = await import_csv(conn, DEMO_GAZETTEER)
    assert report.rows_stored == report.rows_read == 166 and not report.errors
    again = await import_csv(conn, DEMO_GAZETTEER)
    assert again.rows_stored == 166
    assert await conn.fetchval("SELECT count(*) FROM gazetteer_addresses") == 166
    lines = DEMO_GAZETTEER.read_text(encoding="utf-8").splitlines()
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines[:3] + [lines[3].replace(",building,", ",x,")]) + "\n", encoding="utf-8")
    lenient = await import_csv(conn, path)
    assert lenient.rows_stored == 2 and lenient.errors[0].line == 4
    with pytest.raises(GazetteerError, match="line 4"):
        await import_csv(conn, path, strict=True)
    assert await conn.fetchval("SELECT count(*) FROM gazetteer_imports") == 3  # strict stored nothing


async def test_index_cache_follows_the_database(conn, tmp_path):
    cache = tmp_path / "index.pkl"
    await import_csv(conn, DEMO_GAZETTEER)
    first = await load_index(conn, cache)
    assert cache.exists() and len(first.rows) == 166
    cached = await load_index(conn, cache)
    assert cached.fingerprint == first.fingerprint and len(cached.names) == len(first.names)
    lines = DEMO_GAZETTEER.read_text(encoding="utf-8").splitlines()
    extra = tmp_path / "extra.csv"
    extra.write_text("\n".join([lines[0], lines[1].replace("370302001001,", "370302001009,", 2)
                                .replace("般阳社区", "新建社区")]) + "\n", encoding="utf-8")
    await import_csv(conn, extra)
    rebuilt = await load_index(conn, cache)
    assert len(rebuilt.rows) == 167 and rebuilt.fingerprint != first.fingerprint
    assert AddressMatcher(rebuilt).match_uncached("淄川区新建社区").best.address.address_code == "370302001009"


@pytest.fixture(scope="module")
def zibo():
    index = AddressIndex.build(read_csv(shared_file("gazetteer/standard_addresses.csv")))
    return index, AddressMatcher(index)


def test_dev_queries_top1(zibo):
    index, matcher = zibo
    result = evaluate(read_queries(shared_file("gazetteer/dev_queries.tsv")), matcher_predict(matcher))
    assert result["top1"] >= 0.97 and result["top3"] >= 0.99, result


def test_noisy_variants(zibo):
    index, matcher = zibo
    sets = noisy_queries(index, read_queries(shared_file("gazetteer/dev_queries.tsv")))
    predict = matcher_predict(matcher)
    # every other variant: the full sets are bench/geo.py's (one core's time is CI's budget)
    scores = {kind: evaluate(qs[::2], predict) for kind, qs in sets.items()}
    # 0.98 with the ranker (#19), 0.955 by the hand rule
    assert scores["homophone"]["top1"] >= 0.95, scores["homophone"]
    assert scores["dialect"]["top1"] >= 0.95, scores["dialect"]
    assert scores["drop"]["top3"] >= 0.4, scores["drop"]
    assert scores["not_in_gazetteer"]["none_recall"] >= 0.95, scores["not_in_gazetteer"]


def test_eval_cli_prints_one_json_line(tmp_path):
    queries = shared_file("gazetteer/dev_queries.tsv")
    sample = tmp_path / "q.tsv"
    lines = queries.read_text(encoding="utf-8").splitlines()
    sample.write_text("\n".join(lines[:41] + ["none-1\t幸福里小区五号楼停水了\tNONE"]) + "\n", encoding="utf-8")
    env = {**os.environ, "HOTLINE_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "console.cli", "geo", "eval", "--queries", str(sample),
         "--gazetteer", str(shared_file("gazetteer/standard_addresses.csv"))],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=True)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(report) >= {"n", "top1", "top3", "none_precision", "none_recall", "p50_ms",
                           "p99_ms", "build_s", "rss_mb"}
    assert report["n"] == 41 and report["top1"] >= 0.95 and report["none_recall"] == 1.0


# -- generalisation (#19): written addresses, intersections, landmarks, confidence -----------

@pytest.mark.parametrize("written, normal", [
    ("齐兴路138", "齐兴路138号"),                 # a bare number after a road is its door
    ("柳泉路248甲1号", "柳泉路248-1号"),          # a sub-door, not door 1
    ("恒豐▪盛世豪庭3號樓", "恒丰盛世豪庭3号楼"),  # traditional characters, a stray symbol
    ("新新时代三 号 楼 二 单 元", "新时代3号楼2单元"),  # a stutter; numbers split as a recogniser writes them
    ("河东路路三十一号", "河东路31号"),
    ("朱家村村委会", "朱家村村委会"),              # 村村 and 楼楼 are not stutters
    ("山东省淄博市张店区", "张店区"),
    ("鼎力庄园3#楼", "鼎力庄园3号楼"),            # how buildings are written
    ("鼎力庄园3座", "鼎力庄园3号楼"),
    ("鼎力庄园3-2-301", "鼎力庄园3号楼2单元301室"),  # building-unit-room
    ("鼎力庄园12-1502", "鼎力庄园12号楼1502室"),    # building-room
    ("鼎力庄园3号楼2-302", "鼎力庄园3号楼2单元302室"),
    ("柳泉路3-2-301", "柳泉路3-2-301"),          # after a road: a door, left alone
    ("北关村75-148", "北关村75-148"),            # a range of village houses, not a room
    ("百花园26#", "百花园26#"),                  # the gazetteer names compounds so
])
def test_normalize_written_addresses(written, normal):
    assert normalize(written) == normal


@pytest.mark.parametrize("written", ["鼎力庄园3#楼", "鼎力庄园3座", "鼎力庄园3-2-301", "鼎力庄园 3-302",
                                     "鼎力庄园3号楼2-302"])
def test_written_building_forms_find_the_building(zibo, written):
    """3#楼, 3座 and the dashed building-unit-room forms of property listings and forms."""
    _, matcher = zibo
    result = matcher.match_uncached(written)
    assert result.confident and result.best.level == "building", result
    assert result.best.address.compound == "鼎力庄园" and result.best.address.building == "3号楼"


def _compound(index, name, district):
    return next(r.address_code for r in index.rows
                if r.level == "compound" and r.compound == name and r.district == district)


@pytest.mark.parametrize("said, name, district", [
    ("张店-中润华侨城-兴业花园", "兴业花园", "张店区"),     # 区-地标-小区: the last is the place
    ("中德亚运村西邻 尚城名府", "尚城名府", "张店区"),      # X西邻Y: X is a landmark
    ("博山区龍澤苑", "龙泽苑", "博山区"),
])
def test_landmarks_chains_and_written_forms(zibo, said, name, district):
    index, matcher = zibo
    result = matcher.match_uncached(said)
    assert result.confident and result.best.address.address_code == _compound(index, name, district), result


@pytest.mark.parametrize("said", ["中德亚运村对面", "银泰城北800米", "中德亚运村东临", "中德亚运村北门对面"])
def test_a_place_beside_a_landmark_is_not_the_landmark(zibo, said):
    assert not zibo[1].match_uncached(said).confident


def test_a_road_and_a_bare_number_is_its_door_or_gate(zibo):
    index, matcher = zibo
    door = next(r for r in index.rows if r.level == "door" and r.road == "张南路")
    number = door.house_no.removesuffix("号")
    result = matcher.match_uncached(f"张店区张南路{number}门口的路灯坏了")
    assert result.confident and result.best.address.address_code == door.address_code


@pytest.mark.parametrize("said, roads", [
    ("柳泉路与政通路交叉口的路灯坏了", ("柳泉路", "政通路")),
    ("王舍路与柳泉路交叉路口", ("王舍路", "柳泉路")),
    ("西五路联通路路口往北红绿灯不亮", ("西五路", "联通路")),
    ("张店区和平路和西四路交叉口", ("和平路", "西四路")),
])
def test_road_intersections_are_places_not_compounds(zibo, said, roads):
    """Two roads said as a junction: the intersection, placed in a town both roads run
    through; no compound or village (路口村) claimed."""
    index, matcher = zibo
    result = matcher.match_uncached(said)
    assert not result.confident, result.matches[:1]
    junction = result.intersection
    assert junction is not None and junction.level == "intersection"
    assert junction.road == f"{roads[0]}与{roads[1]}交叉口" and junction.full_address.endswith(junction.road)
    towns = [{r.town_code for r in index.rows if r.road == road and r.level in ("door", "compound")}
             for road in roads]
    assert junction.town_code in towns[0] & towns[1]
    assert result.candidates[0] == junction  # offered first to the agent
    assert all("路口村" not in a.full_address for a in result.candidates)


def test_two_roads_without_a_junction_word_are_not_an_intersection(zibo):
    assert zibo[1].match_uncached("柳泉路政通路").intersection is None


def test_the_hard_set_is_split_by_address_and_carries_what_it_says(zibo):
    """Build and held-out queries never share a compound; a tenth are invented; the noise the
    module promises is there (what the README's figures per kind of noise rest on)."""
    from collections import Counter
    from geo.hardset import HardSetMaker, split_of
    index, _ = zibo
    build = HardSetMaker(index.rows, 5).make(600, "build")
    heldout = HardSetMaker(index.rows, 5).make(600, "heldout")
    assert all(split_of(q.gold) == "build" for q in build if q.gold != NONE)
    assert all(split_of(q.gold) == "heldout" for q in heldout if q.gold != NONE)
    assert sum(q.gold == NONE for q in build) == 60
    kinds = Counter(kind for q in build for kind in q.noise)
    for kind in ("drop", "insert", "stutter", "homophone", "dialect", "omit_admin", "spoken_numeral",
                 "split_numeral", "everyday_form", "numbering_homophone", "no_such_building"):
        assert kinds[kind] > 0, (kind, kinds)
    community = {r.address_code: r.community for r in index.rows}
    assert all(community[q.gold] not in q.text for q in build if "everyday_form" in q.noise)


def test_everyday_phrasings_are_answered(zibo):
    """The ways neighbours say addresses (geo.phrasings), clean, about places named once in
    the city: a confident right answer (0.978 on 150 a form, README; a guard on 20 a form)."""
    from collections import Counter
    from geo.phrasings import PhrasingSetMaker
    index, matcher = zibo
    right, total = Counter(), Counter()
    for q in PhrasingSetMaker(index.rows, seed=3).make(20):
        result = matcher.match_uncached(q.text)
        total[q.form] += 1
        right[q.form] += result.confident and result.best.address.address_code == q.gold
    assert len(total) == 11 and sum(right.values()) >= 0.93 * sum(total.values()), right
    for form in ("village_without_cun", "village_with_committee", "compound_gate", "building_word_misheard",
                 "unit_word_misheard"):
        assert right[form] >= 0.85 * total[form], (form, right[form], total[form])


def test_self_made_hard_set_and_real_listings(zibo):
    """Guards (set below what the matcher measures, see README) on sets it was not tuned on
    by hand: a hard spoken set from geo.hardset and the real listing strings."""
    from geo.hardset import HardSetMaker
    index, matcher = zibo
    predict = matcher_predict(matcher)
    hard = HardSetMaker(index.rows, 7).make(400, "heldout")
    spoken = evaluate([Query(q.query_id, q.text, q.gold) for q in hard], predict)
    assert spoken["top1"] >= 0.84 and spoken["confident_accuracy"] >= 0.95, spoken
    listing = evaluate(read_queries(shared_file("gazetteer/real_listing_dev.tsv"))[::2], predict,
                       same=lambda code, gold: code[:-2] == gold[:-2])
    assert listing["top1"] >= 0.88 and listing["ambiguous_not_confident"] >= 0.88, listing
    assert listing["confident_accuracy"] >= 0.95, listing


@pytest.mark.parametrize("said, place", [
    # the 镇 of 鲁村镇 and the 刘家庄村 after it are not 郑家庄村 heard with an extra 刘
    ("沂源县鲁村镇刘家庄村7号", "淄博市沂源县鲁村镇刘家庄村1-30号"),
    # a long name with a character lost, said right before its building number
    ("我住沂源县信德木制品有限司住宅楼暖气一直不热",
     "淄博市沂源县张家坡镇陈家沟村育林路89号沂源县信德木制品有限公司住宅楼"),
    # a name heard half, then a building number the place really has
    ("都寺家12号楼4单元有家饭店油烟直排", "淄博市张店区马尚街道回民村新村路314号都市家园12号楼"),
    # a village said with its 村委会: the 官 belongs to 于家官村, not to 于家村村委会 with a sound inside
    ("我是于家官村村委会旁边的，这边路灯不亮", "淄博市临淄区朱台镇于家官村"),
    # 方家村 said as written is not hidden by 韩家村村委会, which sounds alike (fang/hang, -ng/-n)
    ("我是方家村村委会旁边的，这边路灯不亮", "淄博市周村区南郊镇方家村"),
    # nor is 老刘家村 by 刘家村村委会 inside 老刘家村村委会
    ("我是老刘家村村委会旁边的，这边路灯不亮", "淄博市临淄区齐陵街道老刘家村"),
])
def test_names_heard_beside_others_or_before_numbers(zibo, said, place):
    result = zibo[1].match_uncached(said)
    assert result.confident and result.best.address.full_address == place, result.matches[:2]


@pytest.mark.parametrize("said, place", [
    # a guess through an edit (河镇桑杭村 as 和尚房村 with 镇 inside) hides no name heard as said
    ("淄川区太河镇桑桑杭村有家饭店油烟直排", "淄博市淄川区太河镇桑杭村"),
    # nor does a shorter name inside it hide the long name heard with one character lost
    ("你好我这边是山东工大学瑞贤园生活区", "山东理工大学瑞贤园生活区"),
])
def test_names_heard_with_one_edit(zibo, said, place):
    result = zibo[1].match_uncached(said)
    assert result.confident and result.best.address.full_address.endswith(place), result.matches[:2]


def test_a_long_name_heard_without_its_first_character_is_not_the_name_inside_it(zibo):
    """翠园青年公社 is 翡翠园青年公社 with 翡 lost, not 青年公社 (another compound) with
    noise before it: the longer name explains more of the words. Judged on every such pair of
    the gazetteer (a name ending in another name), since one example flips between ranker fits
    (measured 2026-12-04: 0.69-0.75 right, 0.05-0.11 the inner name, over three fits)."""
    from collections import Counter
    index, matcher = zibo
    compounds = [r for r in index.rows if r.level == "compound"]
    once = {name for name, n in Counter(r.compound for r in compounds).items() if n == 1}
    inner_names = {name for name in once if len(name) >= 3}
    pairs = [(r.compound, inner) for r in compounds if r.compound in once for inner in inner_names
             if inner != r.compound and r.compound.endswith(inner) and len(r.compound) - len(inner) >= 2]
    assert len(pairs) > 100
    right = inner_chosen = 0
    for name, inner in pairs:
        result = matcher.match_uncached(f"俺家在{name[1:]}这两天下水道返味儿")
        said = result.confident and result.best.address.compound
        right += said == name
        inner_chosen += said == inner
    assert right / len(pairs) >= 0.6 and inner_chosen / len(pairs) <= 0.15, (right, inner_chosen, len(pairs))


def test_a_staff_compound_is_said_with_any_of_its_words(zibo):
    """农信家属楼 said 农信家属院 (was confidently 农信小区) or 农行家属楼 said 农行家属院: the
    dormitory words are interchangeable in speech; a compound really called by the swapped form
    keeps its name (the index adds no form that names another compound)."""
    index, matcher = zibo
    for said, place in (("地址是农信家属院", "农信家属楼"), ("我是三小家属院的，想反映个事", "三小家属楼"),
                        ("我家在财政局家属院这边路灯不亮", "财政局家属楼")):
        result = matcher.match_uncached(said)
        assert result.confident and result.best.address.compound == place, (said, result.matches[:2])
    compounds = {r.compound for r in index.rows if r.level == "compound"}
    both = sorted(n for n in compounds if n.endswith("宿舍") and n[:-2] + "家属院" in compounds)
    assert both
    for name in both:  # X宿舍 is not taken for X家属院 said the other way
        result = matcher.match_uncached(f"地址是{name}")
        assert result.matches[0].address.compound != name[:-2] + "家属院", (name, result.matches[:2])


def test_a_house_number_with_a_repeated_digit_is_offered_said_once_but_never_sure(zibo):
    """一一六四号 may be a stutter on 一 (淄矿路164号 exists, 1164 does not): that door is
    offered first, with ？. A written 康平街100号 the gazetteer lacks is not 康平街10号 for
    sure either, and a number the place has as said keeps its confidence (钓鱼村339号)."""
    matcher = zibo[1]
    stutter = matcher.match_uncached("俺家在淄川区洪山镇淄矿路一一六四号这两天下水道返味儿")
    assert not stutter.confident
    assert stutter.matches[0].address.full_address.endswith("淄矿路164号"), stutter.matches[:2]
    written = matcher.match_uncached("康平街100号")
    assert not written.confident and written.matches[0].address.full_address.endswith("康平街10号")
    as_said = matcher.match_uncached("你好我这边是钓鱼村三三九号")
    assert as_said.confident and as_said.best.address.full_address.endswith("钓鱼村329-410号")


@pytest.mark.parametrize("said, place", [
    ("俺家在崔庄村", "淄博市沂源县悦庄镇崔家庄村"),  # a sound lost
    ("就在淄区韩来家村169号那个位置路面塌了个坑", "淄博市临淄区金山镇韩家村163-243号"),  # one inside
    ("我们这里是恒说星园垃圾没人清", "淄博市桓台县少海街道恒星社区少海路78号恒星花园"),  # both
])
def test_an_edit_is_found_when_what_is_left_sounds_like_many_names(zibo, said, place):
    """崔家庄村 heard as 崔庄村, 韩家村 as 韩来家村: 庄村 and 家村 end hundreds of village names,
    so the shortlist of names sharing the most sounds left them out and the edit was never
    tried; the names reached by deleting a sound (from the name, from the words) are."""
    result = zibo[1].match_uncached(said)
    assert place in [m.address.full_address for m in result.matches[:3]], result.matches[:3]


def test_a_two_character_short_form_heard_alike_is_never_sure(zibo):
    """站家 (昝家村 less 村, heard as other characters) with 桓台县 said: offered, not sure; 山东
    after a district is not 商东社区."""
    matcher = zibo[1]
    for said in ("帮我查查桓台县51路册站家这属院归哪个网格", "张店区山东烟台莱州三山岛永祥路中段"):
        result = matcher.match_uncached(said)
        assert not result.confident, (said, result.matches[:2])


def test_two_sounds_across_a_clear_name_are_not_a_name(zibo):
    """敬仲镇东苇说村: 镇东 (a village's short form) is heard across the town's name and hid
    东苇村 heard with a sound inside — and with it the house number said after it."""
    index, matcher = zibo
    norm = normalize("我家是临淄区敬仲镇东苇说村七十二号的暖气费怎么交")
    assert "镇东" not in [index.names[m.name].text for m in matcher.mentions(norm)]
    result = matcher.match_uncached("我家是临枝区敬仲镇东苇说村 七 十 二 号的暖气费怎么交")
    assert result.matches[0].address.full_address == "淄博市临淄区敬仲镇东苇村1-72号", result.matches[:2]


def test_the_ranker_reads_a_place_named_after_a_candidate(zibo):
    """华光路南九巷科苑小区: the road-named compound 华光路南九巷 has 科苑小区 named after it (in a
    written chain the last place is usually the address); the place named last has none."""
    from geo.ranker import FEATURES
    after = FEATURES.index("name_after")
    features = {a.compound: f[after] for a, f in zibo[1].candidate_features("华光路南九巷科苑小区")}
    assert features["华光路南九巷"] == 1.0 and features["科苑小区"] == 0.0, features


def test_a_name_heard_with_one_sound_wrong_is_found(zibo):
    """One character heard as another in a name of four or more (园 → 那): the first candidate,
    offered with ？ — its compound 泰和花园 is as likely."""
    result = zibo[1].match_uncached("我在泰和花那社区看见有人倒渣土")
    assert result.matches[0].address.full_address == "淄博市博山区域城镇泰和花园社区", result.matches[:2]


def test_a_village_said_without_its_cun_is_the_village(zibo):
    """王家庄 for 王家庄村, as neighbours say it: a name the city has once is still sure
    (0.11 of them before the hard set said villages this way and the ranker learned it)."""
    import random
    from collections import Counter
    index, matcher = zibo
    names = Counter(r.community for r in index.rows if r.level == "community")
    villages = sorted((r for r in index.rows if r.level == "community" and r.community.endswith("村")
                       and len(r.community) >= 4 and names[r.community] == 1), key=lambda r: r.address_code)
    sample = random.Random(5).sample(villages, 60)
    right = 0
    for row in sample:
        result = matcher.match_uncached(f"我家在{row.community[:-1]}这边路灯不亮")
        right += result.confident and result.best.address.address_code == row.address_code
    assert right >= 0.9 * len(sample), right


@pytest.mark.parametrize("said, compound", [
    ("张店西六路67号（华光路与西六路交汇处）", "黄金国际"),
    ("联通路26号（柳泉路与联通路交汇处）", "东方之珠"),
])
def test_a_gate_number_said_apart_from_a_junction_places_the_compound(zibo, said, compound):
    """The number is the address, the junction says where it is: a junction does not take a
    confident gate number's answer away (checked on the hand rule, whose confidence does not
    move with each refit of the ranker; the junction rule is the same for both)."""
    index, _ = zibo
    result = AddressMatcher(index, ranker=None).match_uncached(said)
    assert result.intersection is not None and result.confident
    assert result.best.address.compound == compound and result.candidates[1] == result.intersection


def test_the_same_words_get_the_same_answer_in_every_process():
    """Ties among fuzzy candidates must not be broken by Python's per-process string hashing."""
    script = ("import sys; sys.path.insert(0, '.')\n"
              "from geo.index import AddressIndex\nfrom geo.gazetteer import read_csv\n"
              "from geo.matcher import AddressMatcher\nfrom geo.hardset import HardSetMaker\n"
              f"index = AddressIndex.build(read_csv({str(shared_file('gazetteer/standard_addresses.csv'))!r}))\n"
              "m = AddressMatcher(index)\n"
              "for q in HardSetMaker(index.rows, 11).make(300, 'build'):\n"
              "    r = m.match_uncached(q.text)\n"
              "    print(r.confident, [x.address.address_code for x in r.matches])\n")
    runs = [subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")]
    assert runs[0] == runs[1] and runs[0].count("\n") == 300


@pytest.mark.parametrize("said, gold", [
    ("就在台这陈村那个位置路面塌了个坑", "370322001203"),  # 台陈村 with a particle inside
    ("我住张店嗯金润仕居二号楼暖气一直不热。", "370303005007201402"),  # a filler inside, a sound lost
    ("张店区三巷八十三号门口井盖没了晚上很危险", "370303009214400016"),
    ("我们星光嘉园18号楼电梯又坏了", None),  # invented: not 馨嘉园小区18号楼
    ("地址御景嘉园26号楼", None),  # invented: not 金马嘉苑26号楼
])
def test_the_ranker_answers_where_the_hand_rule_could_not_and_declines_inventions(zibo, said, gold):
    """Cases from the held-out hard set where the hand rule (MIN_SCORE / MIN_MARGIN) abstained
    or answered an invented address; the ranker's probability decides instead."""
    index, matcher = zibo
    result = matcher.match_uncached(said)
    assert result.confident == (gold is not None), result.matches[:2]
    if gold:
        assert result.best.address.address_code == gold and result.best.confidence >= 0.5
    assert AddressMatcher(index, ranker=None).match_uncached(said).confident != result.confident
    confidences = [m.confidence for m in result.matches]
    assert confidences == sorted(confidences, reverse=True)


def test_namesakes_that_explain_the_words_alike_are_never_confident(zibo):
    """Two 袁家村 in 淄川区 both have a house 49: whatever the model's probability, the words
    cannot pick out one, and both are offered."""
    _, matcher = zibo
    result = matcher.match_uncached("淄川区袁家椿49号门口井盖没了晚上很危险")
    assert not result.confident
    assert {m.address.town for m in result.matches[:2]} == {"双杨镇", "寨里镇"}
    assert result.doubt == NAMESAKE  # the console asks which town


@pytest.mark.parametrize("heard, doubt", [
    ("河洼村", NAMESAKE),  # two 河洼村 in 淄川区: 将军路街道 and 岭子镇
    ("我这边是陈桥村", NAMESAKE),  # 周村区 and 桓台县
    ("鼎泥园三栋", UNSURE),  # 鼎力庄园, 鼎立庄园 … one sound misheard: read back
    ("我们这儿的萨克斯风宫殿门口积水了", NOT_FOUND),  # nothing like it in the gazetteer
    ("", NOT_FOUND),
    ("淄川区将军路街道河洼村", ""),  # confident: no doubt
])
def test_why_an_address_is_not_sure(zibo, heard, doubt):
    """The reason tells the agent what to ask next: which district or town for a namesake,
    the address again when nothing is like it, else a read-back of the first candidate."""
    _, matcher = zibo
    result = matcher.match_uncached(heard)
    assert result.doubt == doubt
    assert result.confident == (doubt == "")


async def test_three_candidates_fit_the_address_pane_at_80_columns(zibo):
    """At 80x24 the pane is 40 columns and 6 lines: F5-F7 one line each (a long place wrapped,
    and the list's focus border took two lines, hiding F6/F7)."""
    from textual.app import App
    from textual.widgets import OptionList
    from console.agent.widgets.address import AddressPane
    _, matcher = zibo
    result = matcher.match_uncached("方正凤凰城4号楼")
    assert len(result.matches) == 3

    class PaneOnly(App):
        CSS = "AddressPane { width: 40; height: 6; }"

        def compose(self):
            yield AddressPane()

    app = PaneOnly()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(AddressPane)
        pane.show(result, typed=True)  # typed: the list has the focus
        await pilot.pause()
        options = pane.query_one(OptionList)
        assert options.has_focus and options.option_count == 3
        assert options.virtual_size.height == 3  # one line each
        assert options.region.y + 3 <= pane.region.bottom - 1  # all inside the border
        assert pane.border_subtitle == "？多处同名：请问哪个区县、镇街"
        search = pane.query_one("#address-search")
        search.focus()
        await pilot.pause()
        assert search.content_region.height == 1  # what the agent types shows (a focus border hid it)
        pane.show(matcher.match_uncached("喂你好"))  # the caller greets: no address, no doubt
        assert pane.border_subtitle == ""
        pane.show(matcher.match_uncached("萨克斯风宫殿"), typed=True)  # the agent typed it
        assert pane.border_subtitle == "？库中无此地址：请再说一遍或手填"


def test_the_doubts_benchmark_counts_what_each_reason_is_worth(zibo):
    """bench/geo_doubts.py: per reason, how often given and how often true."""
    sys.path.insert(0, str(REPO / "bench"))
    from geo_doubts import tally
    index, matcher = zibo
    river = next(r.address_code for r in index.rows if r.level == "community"
                 and r.community == "河洼村" and r.town == "岭子镇")
    out = tally(matcher, [("萨克斯风宫殿", NONE, True), ("河洼村", river, False),
                          ("淄川区将军路街道河洼村", river, False)],  # confident (wrongly): not counted
                lambda code, gold: code == gold)
    assert out[NOT_FOUND] == {"n": 1, "not_identifiable": 1.0, "true": 1.0}
    assert out[NAMESAKE] == {"n": 1, "not_identifiable": 0.0, "true": 1.0}
    assert out[UNSURE]["n"] == 0


def test_the_answer_to_which_town_settles_a_namesake(zibo):
    """The call goes on after the hint: the caller's answer, heard after the name, picks one."""
    _, matcher = zibo
    for said, town in (("我家在河洼村路灯坏了。哪个镇的？岭子镇的", "岭子镇"),
                       ("我这边是陈桥村。在哪个区县？在周村", "城北路街道")):
        result = matcher.match_uncached(said)
        assert result.confident and result.best.address.town == town, said


def test_the_agent_is_told_where_the_namesakes_are(zibo):
    from console.agent.widgets.address import doubt_hint
    _, matcher = zibo
    result = matcher.match_uncached("河洼村")
    assert doubt_hint(result) == "？多处同名：请问哪个区县、镇街"
    assert {(m.address.district, m.address.town) for m in result.matches[:2]} == {
        ("淄川区", "将军路街道"), ("淄川区", "岭子镇")}  # each candidate line shows its place
    assert doubt_hint(matcher.match_uncached("淄川区将军路街道河洼村")) == ""


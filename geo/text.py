"""Text normalisation for spoken and written addresses.

`normalize` turns a transcript into a canonical written form (fillers dropped, spoken
numerals as digits, 栋/幢 as 号楼).  The sound key and the numerals themselves live in
`common.zhtext`, shared with the knowledge base.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from common.zhtext import FILLERS, SoundKey, numeral_value

_PUNCT = re.compile(r"[\s,，。.、;；:：!！?？\"'“”‘’()（）\[\]【】<>《》·•・~～…_/\\|]+")
# Any other punctuation or symbol people put in written addresses (恒豐▪盛世豪庭, ★, ®):
# dropped like the listed ones.  The dash stays: it joins numbers (34-1号) and chains (张店-X-Y).
_SYMBOLS = {cp: None for cp in range(0x20, 0x3000)
            if unicodedata.category(chr(cp))[0] in "PS" and chr(cp) not in "-#+&"}
_SYMBOLS.update({cp: None for cp in range(0x3000, 0x3040) if unicodedata.category(chr(cp))[0] in "PS"})
# A character said twice in a row is a stutter (新新时代, 河东路路): one is kept.  Numerals
# are left alone (幺二二 is 122), and so are 楼 and 村 (3号楼楼下, 朱家村村委会); names get the same treatment, so 新新家园 still matches.
_STUTTER = re.compile(r"([^\d\sA-Z零〇○幺一二两三四五六七八九十百千楼村-])\1+")
# A bare number after a road is its door number (齐兴路138 = 齐兴路138号).
_BARE_DOOR = re.compile(r"(?<=[路街巷道])(\d+(?:-\d+)?)(?![\d号楼栋幢单元室层户甲乙丙丁米-])")
_DASH = re.compile(r"(?<=\d)\s*[-－—–杠]\s*(?=\d)")
_BUILDING = re.compile(r"第?(\d+)\s*(?:号楼|栋楼|栋|幢|号栋)")


_PROVINCE_CITY = ("山东省", "淄博市")
# Traditional characters seen in written addresses (龍澤苑, 恒豐), as their simplified forms:
# the sound key already hears them alike, but numbers and suffixes (號, 樓, 單元) must read.
_TRADITIONAL = str.maketrans(
    "龍澤豐園華國東莊區號樓單門陽鳳灣廣場長興學館麗濱輝實閣億嶺廈苑鑫滙匯雲瀾灣溝禮縣鎮鄉"
    "體員錦繡韻鄰臨貿廠電廳幣漢裡閘頭橋與關寧靜藝術體義覽開發達綠鐵愛歡樂豪總壽順紅葉條"
    "蘭蓮薈舊專業務風範無際書農醫藥鵬軒鑾鳴塢鐘樓聖隆寶蓋養",
    "龙泽丰园华国东庄区号楼单门阳凤湾广场长兴学馆丽滨辉实阁亿岭厦苑鑫汇汇云澜湾沟礼县镇乡"
    "体员锦绣韵邻临贸厂电厅币汉里闸头桥与关宁静艺术体义览开发达绿铁爱欢乐豪总寿顺红叶条"
    "兰莲荟旧专业务风范无际书农医药鹏轩銮鸣坞钟楼圣隆宝盖养")
_NUM_CHARS = "零〇○幺一二两三四五六七八九十百千"
# A numeral is a number (not part of a name like 西关二村) when a numbering word follows it,
# possibly after a dash (三十四杠一号), or when it is said digit by digit (五零二).
_NUMBERED = re.compile(
    rf"[{_NUM_CHARS}]+(?=(?:[-－—–杠][{_NUM_CHARS}0-9]+)?(?:号|楼|栋|幢|单元|室|层|户))"
    rf"|(?<=[-－—–杠])[{_NUM_CHARS}]+(?=号)"
    rf"|[零〇○幺一二两三四五六七八九]{{3,}}")


def _numerals_to_digits(text: str) -> str:
    return _NUMBERED.sub(lambda m: numeral_value(m.group()), text)


@lru_cache(maxsize=200_000)
def normalize_name(text: str) -> str:
    """Canonical form of a gazetteer name (no filler removal)."""
    text = unicodedata.normalize("NFKC", text).upper().translate(_TRADITIONAL)
    for prefix in _PROVINCE_CITY:  # 淄博市政府宿舍 is said 市政府宿舍 as often
        text = text.replace(prefix, "")
    text = _PUNCT.sub("", text).translate(_SYMBOLS)
    text = _numerals_to_digits(text)
    text = _DASH.sub("-", text)
    text = _STUTTER.sub(r"\1", text)
    return _BUILDING.sub(lambda m: f"{int(m[1])}号楼", text)


# 248甲1号 is a sub-door of 248号: written 248-1号 so that it is not taken for 1号.
_SUB_DOOR = re.compile(r"(\d+)[甲乙丙丁](\d+)号")
# How buildings are written (not after a road, where 3-2 is a door): 3#楼 and 3座 are 3号楼
# (a bare 26# stays: the gazetteer names compounds so, 百花园26#); 3-2-301 is building 3, unit 2,
# room 301, 3-302 building 3, room 302, 3号楼2-302 unit 2 — a room's last two digits are its
# door, 01-12 (北关村75-148 is a range of village houses, not a room).
_ROOM = r"\d{1,2}(?:0[1-9]|1[0-2])"
_WRITTEN_BUILDING = re.compile(r"(?<![\dA-Z-])(\d{1,3})(?:#楼|座)")
_DASHED_ROOM = re.compile(rf"(?<![\d路街巷道楼-])(\d{{1,3}})-(\d{{1,2}})-({_ROOM})(?![\d号-])")
_DASHED_BUILDING_ROOM = re.compile(rf"(?<![\d路街巷道楼-])(\d{{1,3}})-({_ROOM})(?![\d号-])")
_DASHED_UNIT_ROOM = re.compile(rf"(?<=号楼)(\d{{1,2}})-({_ROOM})(?![\d号-])")


def _written_building(text: str) -> str:
    text = _WRITTEN_BUILDING.sub(r"\1号楼", text)
    text = _DASHED_ROOM.sub(r"\1号楼\2单元\3室", text)
    text = _DASHED_BUILDING_ROOM.sub(r"\1号楼\2室", text)
    return _DASHED_UNIT_ROOM.sub(r"\1单元\2室", text)


# The numbering words after a number, heard as other characters of the same sound (三号搂,
# 3好楼, 2单园): a recogniser's language model may pick any of them.
_SOUNDS = SoundKey()
_NUMBER_CHARS = frozenset("0123456789" + _NUM_CHARS)
_SPACES = re.compile(r"\s+")
_NOT_BUILDING = "水雨气电风"  # 5号漏水 is door 5 leaking, not building 5 (but 5号搂电梯 is building 5's lift)


def _same_sound(ch: str, word: str) -> bool:
    return ch == word or _SOUNDS.char(ch) == _SOUNDS.char(word)


def _numbering_words(text: str) -> str:
    """号, 号楼 and 单元 right after a number, whatever characters of their sound were written."""
    chars = list(_SPACES.sub("", text))
    for i in range(1, len(chars)):
        if chars[i - 1] not in _NUMBER_CHARS or chars[i] in _NUMBER_CHARS:
            continue
        rest = chars[i + 1] if i + 1 < len(chars) else ""
        if _same_sound(chars[i], "号"):
            chars[i] = "号"
            leaking = rest == "漏" and i + 2 < len(chars) and chars[i + 2] in _NOT_BUILDING
            if rest and _same_sound(rest, "楼") and not leaking:
                chars[i + 1] = "楼"
        elif rest and _same_sound(chars[i], "单") and _same_sound(rest, "元"):
            chars[i:i + 2] = ["单", "元"]
    return "".join(chars)


# 十十三 is a stutter (no number says 十 twice); 二二 may be 22, so digits stay
_UNIT_STUTTER = re.compile(r"([十百千])\1+")


# A particle heard inside a number (二这七八号, 98的2号院) is a filler: the number runs on.
_FILLED_NUMBER = re.compile(rf"(?<=[0-9{_NUM_CHARS}])[的呃啊嗯这那了](?=[0-9{_NUM_CHARS}])")


def normalize(text: str) -> str:
    """Canonical form of a spoken utterance: also drops fillers and the city name."""
    text = _UNIT_STUTTER.sub(r"\1", _numbering_words(
        _FILLED_NUMBER.sub("", unicodedata.normalize("NFKC", text))))
    for filler in FILLERS:
        text = text.replace(filler, "")
    return _BARE_DOOR.sub(r"\1号", _SUB_DOOR.sub(r"\1-\2号", _written_building(normalize_name(text))))

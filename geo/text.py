"""Text normalisation for spoken and written addresses.

`normalize` turns a transcript into a canonical written form (fillers dropped, spoken
numerals as digits, 栋/幢 as 号楼).  The sound key and the numerals themselves live in
`common.zhtext`, shared with the knowledge base.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from common.zhtext import FILLERS, numeral_value

_PUNCT = re.compile(r"[\s,，。.、;；:：!！?？\"'“”‘’()（）\[\]【】<>《》·•・~～…_/\\|]+")
_DASH = re.compile(r"(?<=\d)\s*[-－—–杠]\s*(?=\d)")
_BUILDING = re.compile(r"第?(\d+)\s*(?:号楼|栋楼|栋|幢|号栋)")


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
    text = unicodedata.normalize("NFKC", text).upper()
    text = _PUNCT.sub("", text)
    text = _numerals_to_digits(text)
    text = _DASH.sub("-", text)
    return _BUILDING.sub(lambda m: f"{int(m[1])}号楼", text)


def normalize(text: str) -> str:
    """Canonical form of a spoken utterance: also drops fillers and the city name."""
    text = unicodedata.normalize("NFKC", text)
    for filler in FILLERS:
        text = text.replace(filler, "")
    return normalize_name(text)

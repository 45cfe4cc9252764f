"""Masking of phone and ID numbers in what inspectors see and export."""

from __future__ import annotations

import re

_ID = re.compile(r"(?<!\d)(\d{6})(\d{8})(\d{3}[\dXx])(?!\d)")
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})(-?)(\d{3,4})(\d{4})(?!\d)")


def mask(text: str) -> str:
    """370303199001011234 → 370303********1234; 13805331234 → 138****1234;
    0533-2181234 → 0533-***1234."""
    if not text:
        return text
    text = _ID.sub(lambda m: m[1] + "*" * 8 + m[3], text)
    text = _MOBILE.sub(lambda m: f"{m[1]}****{m[3]}", text)
    return _LANDLINE.sub(lambda m: f"{m[1]}{m[2]}{'*' * len(m[3])}{m[4]}", text)

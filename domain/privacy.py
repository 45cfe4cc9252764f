"""Masking of phone and ID numbers for everyone who does not need them whole.

Numbers reach the database as people say and systems write them: 13805331234, 138 0533 1234,
+86 138-0533-1234, 幺三八零五三三幺二三四 (a recogniser's digits), ０５３３－２１８１２３４, an ID card
ending in X. A run of digits — ASCII, full-width or spoken, with single spaces or dashes
between them — is read as one number; a mobile keeps its first 3 and last 4 digits, a
landline its area code and last 4, an ID card its first 6 and last 4. The other characters
of the text stay exactly as they were.
"""

from __future__ import annotations

_SPOKEN = dict(zip("零〇○幺一二两三四五六七八九", "00011223456789"))
_FULL_WIDTH = {chr(0xFF10 + d): str(d) for d in range(10)}
_SEPARATORS = set(" -－—–·\u3000")


def _digit(ch: str) -> str | None:
    if "0" <= ch <= "9":
        return ch
    return _SPOKEN.get(ch) or _FULL_WIDTH.get(ch)


def _runs(text: str):
    """(digits, positions) of every run of digits, separators allowed between two digits."""
    i, n = 0, len(text)
    while i < n:
        if _digit(text[i]) is None:
            i += 1
            continue
        digits, positions = [], []
        while i < n:
            d = _digit(text[i])
            if d is not None:
                digits.append(d)
                positions.append(i)
                i += 1
            elif text[i] in _SEPARATORS and i + 1 < n and _digit(text[i + 1]) is not None:
                i += 1
            elif text[i] in "Xx" and len(digits) == 17:  # the check digit of an ID card
                digits.append("X")
                positions.append(i)
                i += 1
                break
            else:
                break
        yield "".join(digits), positions


def _hidden(digits: str) -> range | None:
    """Which digits of a number to hide, or None when it is not a phone or ID number."""
    if digits.startswith("86") and len(digits) == 13 and digits[2] == "1":
        digits, offset = digits[2:], 2  # +86 / 86 before a mobile
    else:
        offset = 0
    n = len(digits)
    if n == 11 and digits[0] == "1" and digits[1] in "3456789":
        return range(offset + 3, offset + 7)
    if n == 18 and digits[:17].isdigit() and digits[0] in "123456789":
        return range(6, 14)
    if digits[0] == "0" and 10 <= n <= 12:
        area = 3 if digits[1] in "12" else 4  # 010 and 02x, else 0xxx
        return range(area, n - 4)
    return None


def mask(text: str) -> str:
    """370303199001011234 → 370303********1234; 13805331234 → 138****1234;
    0533-2181234 → 0533-***1234; 幺三八零五三三幺二三四 → 幺三八****幺二三四."""
    if not text:
        return text
    chars = list(text)
    for digits, positions in _runs(text):
        hidden = _hidden(digits) if len(digits) >= 10 else None
        for k in hidden or ():
            chars[positions[k]] = "*"
    return "".join(chars)

"""Chinese text helpers shared by address matching and knowledge search.

Fillers a caller says, spoken numerals (一百四十五 → 145, 幺五零二 → 1502), and the *sound key*:
every character maps to one character standing for its folded pinyin syllable, so that
homophones (松龄/松林) and the dialect pairs n/l, f/h, z/zh, c/ch, s/sh, an/ang, en/eng, in/ing
give identical keys, one key character per text character.
"""

from __future__ import annotations

from pypinyin import Style, lazy_pinyin

FILLERS = ("那个什么", "那个", "这个", "就是", "然后", "你好", "您好", "嗯", "呃", "额", "啊", "哦", "喂")

DIGITS = {"零": 0, "〇": 0, "○": 0, "幺": 1, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
          "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
UNITS = {"十": 10, "百": 100, "千": 1000}


def numeral_value(run: str) -> str:
    """'一百四十五' → '145', '二七零六' → '2706', '十一' → '11', '幺五零二' → '1502'."""
    if not any(ch in UNITS for ch in run):
        return "".join(str(DIGITS[ch]) for ch in run)
    total, current = 0, 0
    for ch in run:
        if ch in DIGITS:
            current = DIGITS[ch]
        else:
            total += (current or 1) * UNITS[ch]
            current = 0
    total += current
    # '一百五' means 150, '两千三' 2300: a trailing digit after 百/千 fills the next place
    if len(run) >= 2 and run[-1] in DIGITS and run[-2] in ("百", "千") and DIGITS[run[-1]]:
        total += current * (9 if run[-2] == "百" else 99)
    return str(total)


# -- sound key -----------------------------------------------------------------------------
_INITIAL_FOLD = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"), ("f", "h"))


def fold_syllable(syllable: str) -> str:
    """Fold dialect pairs: zh/ch/sh → z/c/s, n → l, f → h, -ng → -n."""
    for source, target in _INITIAL_FOLD:
        if syllable.startswith(source) and syllable != "ng":
            syllable = target + syllable[len(source):]
            break
    if syllable.endswith("ng") and len(syllable) > 2:
        syllable = syllable[:-1]
    return syllable


_DIGIT_SOUND = dict(zip("0123456789", ("ling", "yi", "er", "san", "si", "wu", "liu", "qi", "ba", "jiu")))


class SoundKey:
    """Maps characters to one-character sound classes; the table grows as new syllables appear."""

    _FIRST = 0xE000  # private-use code points stand for syllables

    def __init__(self, syllables: dict[str, str] | None = None):
        self.syllables: dict[str, str] = dict(syllables or {})
        self._chars: dict[str, str] = {}

    def _syllable_char(self, syllable: str) -> str:
        code = self.syllables.get(syllable)
        if code is None:
            code = chr(self._FIRST + len(self.syllables))
            self.syllables[syllable] = code
        return code

    def char(self, ch: str) -> str:
        cached = self._chars.get(ch)
        if cached is not None:
            return cached
        if ch in _DIGIT_SOUND:  # 西2路 sounds like 西尔路
            key = self._syllable_char(fold_syllable(_DIGIT_SOUND[ch]))
        elif "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf":
            syllable = lazy_pinyin(ch, style=Style.NORMAL)[0]
            key = self._syllable_char(fold_syllable(syllable))
        else:
            key = ch
        self._chars[ch] = key
        return key

    def key(self, normalized: str) -> str:
        return "".join(self.char(ch) for ch in normalized)


def pinyin_initials(text: str) -> str:
    """物业收费 → wysf: what an agent types to find a word by its sounds."""
    return "".join(p[0] for p in lazy_pinyin(text, style=Style.FIRST_LETTER) if p and p[0].isalnum()).lower()


def pinyin_full(text: str) -> str:
    """物业收费 → wuyeshoufei."""
    return "".join(lazy_pinyin(text, style=Style.NORMAL)).lower()

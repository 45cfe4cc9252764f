"""Finding a ticket category as an agent types: words of any of the three levels, or their
pinyin initials (wysf → 物业收费) or full pinyin, best matches first.

Why not a dropdown: 96 leaf categories in a flat list take a dozen keys to reach; a few
typed letters take three or four."""

from __future__ import annotations

from dataclasses import dataclass

from common.zhtext import pinyin_full, pinyin_initials

from .taxonomy import Category


@dataclass(frozen=True)
class _Entry:
    category: Category
    levels: tuple[str, ...]  # 城乡建设, 物业管理, 物业收费
    initials: tuple[str, ...]  # cxjs, wygl, wysf
    full: tuple[str, ...]  # chengxiangjianshe, …


class CategoryFinder:
    def __init__(self, categories: list[Category]):
        self._entries = [
            _Entry(c, levels := tuple(c.path.split("/")), tuple(map(pinyin_initials, levels)),
                   tuple(map(pinyin_full, levels)))
            for c in categories]
        self._by_code = {c.code: c for c in categories}

    def get(self, code: str) -> Category | None:
        return self._by_code.get(code)

    def find(self, typed: str, limit: int = 6) -> list[Category]:
        """Categories matching every typed word (space-separated), best first: the leaf
        matching beats a parent matching, a start beats a middle, shorter paths first."""
        words = typed.strip().lower().split()
        if not words:
            return []
        scored = []
        for entry in self._entries:
            total = 0
            for word in words:
                best = max((self._score(entry, level, word) for level in range(len(entry.levels))), default=0)
                if not best:
                    break
                total += best
            else:
                scored.append((-total, len(entry.category.path), entry.category.code, entry.category))
        scored.sort()
        return [c for *_, c in scored[:limit]]

    @staticmethod
    def _score(entry: _Entry, level: int, word: str) -> int:
        leaf = 2 if level == len(entry.levels) - 1 else 1  # the level the agent names is usually the leaf
        name, initials, full = entry.levels[level], entry.initials[level], entry.full[level]
        if word in name:
            return leaf * (4 if name.startswith(word) else 3)
        if word.isascii():
            if initials.startswith(word):
                return leaf * (3 if len(word) > 1 else 1)
            if full.startswith(word):
                return leaf * 2
            if len(word) > 1 and word in initials:
                return leaf
        return 0

"""Keep the garbage collector off what a long-running process loaded at start-up."""

from __future__ import annotations

import gc


def freeze_startup_heap() -> None:
    """Collect once, then move every surviving object to the permanent generation.

    Indexes, jieba's dictionary and pinyin tables live as long as the process; without this a
    full collection walks them all (tens of ms) in the middle of whatever the user is doing.
    """
    gc.collect()
    gc.freeze()

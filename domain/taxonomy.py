"""Ticket category taxonomy: 3 levels, read from CSV (l1_code,l1,l2_code,l2,l3_code,l3)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from common.csvfile import csv_rows

DEFAULT_TAXONOMY = Path(__file__).parent / "data" / "taxonomy.csv"
# Two or three typical citizen phrasings per leaf category: what the category suggestion
# learns from before a centre has filed tickets of its own.
CATEGORY_EXAMPLES = Path(__file__).parent / "data" / "category_examples.csv"
COLUMNS = ("l1_code", "l1", "l2_code", "l2", "l3_code", "l3")


class TaxonomyError(ValueError):
    """The taxonomy file is malformed; the message names the line."""


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    level: int
    parent_code: str | None
    path: str  # "城乡建设/物业管理/物业收费"


def parse_taxonomy(path: Path) -> list[Category]:
    path = Path(path)
    categories: dict[str, Category] = {}
    with csv_rows(path, COLUMNS, error=TaxonomyError) as reader:
        for line, row in enumerate(reader, 2):
            parent, names = None, []
            for level in (1, 2, 3):
                code = (row[f"l{level}_code"] or "").strip()
                name = (row[f"l{level}"] or "").strip()
                if not code and not name and level > 1:
                    deeper = [lvl for lvl in range(level + 1, 4) if (row[f"l{lvl}_code"] or row[f"l{lvl}"] or "").strip()]
                    if deeper:
                        raise TaxonomyError(f"{path}:{line}: level {deeper[0]} is given without level {level}")
                    break
                if not code or not name or not code.isdigit():
                    raise TaxonomyError(f"{path}:{line}: level {level} needs a numeric code and a name")
                if parent and not code.startswith(parent):
                    raise TaxonomyError(f"{path}:{line}: code {code} does not extend its parent {parent}")
                names.append(name)
                known = categories.get(code)
                if known and known.name != name:
                    raise TaxonomyError(f"{path}:{line}: code {code} is both {known.name} and {name}")
                categories[code] = Category(code, name, level, parent, "/".join(names))
                parent = code
    if not categories:
        raise TaxonomyError(f"{path}: no categories")
    return sorted(categories.values(), key=lambda c: (c.level, c.code))


def category_examples(path: Path = CATEGORY_EXAMPLES) -> list[tuple[str, str]]:
    """(text, category code) pairs."""
    with csv_rows(path, ("code", "text"), error=TaxonomyError) as reader:
        return [(row["text"].strip(), row["code"].strip()) for row in reader if row["text"] and row["code"]]

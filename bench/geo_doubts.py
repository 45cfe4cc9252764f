"""What each reason for "not sure" is worth to the agent who reads it.

    python bench/geo_doubts.py [--gazetteer CSV] [--listing TSV] [--seeds 41,43,47] [--n 2000]

When the matcher is not confident it says why (geo.matcher: NAMESAKE, NOT_FOUND, UNSURE) and
the console turns that into the next question.  For each reason, on build-split hard spoken
sets no fit sees (the held-out split is left to bench/geo.py) and on the real listing
strings: how often it is given, and how often it is true — NOT_FOUND: the address is not in
the gazetteer (gold NONE, or a listing string that cannot identify a compound); NAMESAKE: the
right place is among the namesakes offered; UNSURE: the right place is the first offered, or
among the three; and for each, the share of words that cannot name a place at all.  One
JSON line.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo.evaluate import NONE  # noqa: E402
from geo.hardset import HardSetMaker  # noqa: E402
from geo.index import AddressIndex  # noqa: E402
from geo.matcher import NAMESAKE, NOT_FOUND, UNSURE, AddressMatcher  # noqa: E402

SHARED = ROOT.parent / "shared" / "data" / "gazetteer"


def tally(matcher: AddressMatcher, items, same) -> dict:
    """items: (text, gold, unidentifiable) → per reason: n, and how often it held."""
    given, held, first, among, lacking = Counter(), Counter(), Counter(), Counter(), Counter()
    for text, gold, unidentifiable in items:
        result = matcher.match_uncached(text)
        if result.confident:
            continue
        codes = [m.address.address_code for m in result.matches]
        given[result.doubt] += 1
        lacking[result.doubt] += unidentifiable
        if result.doubt == NOT_FOUND:
            held[NOT_FOUND] += unidentifiable
        elif not unidentifiable:
            hit = [same(c, gold) for c in codes]
            if result.doubt == NAMESAKE:
                held[NAMESAKE] += any(hit)
            else:
                first[UNSURE] += bool(hit) and hit[0]
                among[UNSURE] += any(hit)
    out = {}
    for reason in (NAMESAKE, NOT_FOUND, UNSURE):
        n = given[reason]
        row = {"n": n, "not_identifiable": round(lacking[reason] / n, 3) if n else None}
        if reason == UNSURE:
            row.update(right_first=round(first[reason] / n, 3) if n else None,
                       right_among_three=round(among[reason] / n, 3) if n else None)
        else:
            row["true"] = round(held[reason] / n, 3) if n else None
        out[reason] = row
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gazetteer", default=str(SHARED / "standard_addresses.csv"))
    ap.add_argument("--listing", default=str(SHARED / "real_listing_dev.tsv"))
    ap.add_argument("--seeds", default="41,43,47")
    ap.add_argument("--n", type=int, default=2000)
    args = ap.parse_args()
    started = time.time()
    index = AddressIndex.from_csv(Path(args.gazetteer))
    matcher = AddressMatcher(index)
    spoken = []
    for seed in (int(s) for s in args.seeds.split(",")):
        spoken += [(q.text, q.gold, q.gold == NONE) for q in HardSetMaker(index.rows, seed).make(args.n, "build")]
        print(f"hard set {seed} made", file=sys.stderr)
    with open(args.listing, encoding="utf-8", newline="") as fh:
        listing = [(r["text"], r["gold_address_code"], r["ambiguous"] == "yes")
                   for r in csv.DictReader(fh, delimiter="\t")]
    print(json.dumps({
        "spoken": {"sets": f"hard build seeds {args.seeds}, n={args.n} each",
                   **tally(matcher, spoken, lambda code, gold: code == gold)},
        "listing": tally(matcher, listing, lambda code, gold: code[:-2] == gold[:-2]),
        "seconds": round(time.time() - started)}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

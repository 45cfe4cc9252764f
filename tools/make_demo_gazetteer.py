"""Write geo/data/demo_gazetteer.csv: the small demo gazetteer the product ships.

District and town names and codes are the public NBS division codes; the communities,
compounds, buildings and door numbers below are made up for the demo.
"""

import csv
import random
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "geo" / "data" / "demo_gazetteer.csv"
COLUMNS = ["address_code", "level", "district_code", "district", "town_code", "town",
           "community_code", "community", "grid_code", "grid", "road", "house_no", "compound",
           "building", "unit_count", "households", "population", "org_count", "full_address",
           "aliases"]

# (district code, district, town code, town, [(community, kind, roads, compounds)])
PLAN = [
    ("370303", "张店区", "370303009", "马尚街道", [
        ("松龄社区", "居委会", ["松龄路", "人民西路"], ["松龄花园", "人民西路宿舍", "松鹤苑"]),
        ("杏园社区", "居委会", ["杏园东路", "华光路"], ["杏园小区", "华光新村", "金晶苑"]),
        ("东寨村", "村委会", [], []),
    ]),
    ("370303", "张店区", "370303001", "车站街道", [
        ("柳泉社区", "居委会", ["柳泉路", "共青团西路"], ["柳泉家园", "共青团小区", "铁路宿舍"]),
        ("西六路社区", "居委会", ["西六路"], ["鲁泰嘉园", "齐盛苑"]),
    ]),
    ("370302", "淄川区", "370302001", "般阳路街道", [
        ("般阳社区", "居委会", ["般阳路", "松龄东路"], ["般阳花园", "聊斋苑"]),
        ("北关村", "村委会", [], []),
    ]),
    ("370305", "临淄区", "370305001", "闻韶街道", [
        ("闻韶社区", "居委会", ["桓公路", "齐园路"], ["闻韶家园", "齐都花园"]),
        ("南王村", "村委会", [], []),
    ]),
]


def main() -> None:
    rng = random.Random(12345)
    rows = []
    for district_code, district, town_code, town, communities in PLAN:
        for ci, (community, kind, roads, compounds) in enumerate(communities, 1):
            community_code = f"{town_code}{ci:03d}"
            prefix = f"淄博市{district}{town}{community}"
            grids = [(f"{community_code}{g:02d}", f"{community}第{g}网格") for g in (1, 2)]
            long_name = community.replace("社区", "社区居委会") if kind == "居委会" else community.replace("村", "村委会")
            rows.append([community_code, "community", district_code, district, town_code, town,
                         community_code, community, "", "", "", "", "", "", "", 0, 0, 1, prefix,
                         long_name])
            if kind == "村委会":
                ranges = [(1, 60), (61, 130)]
                for g, (lo, hi) in enumerate(ranges, 1):
                    grid_code, grid = grids[g - 1]
                    rows.append([f"{community_code}1{g:02d}000", "village_house", district_code,
                                 district, town_code, town, community_code, community, grid_code,
                                 grid, "", f"{lo}-{hi}号", "", "", "", hi - lo + 1,
                                 int((hi - lo + 1) * 2.6), rng.randint(0, 3),
                                 f"{prefix}{lo}-{hi}号", ""])
                continue
            gate_numbers = iter(rng.sample(range(2, 200, 2), 20))
            for pi, compound in enumerate(compounds, 1):
                road = roads[pi % len(roads)]
                gate = f"{next(gate_numbers)}号"
                code = f"{community_code}2{pi:03d}00"
                grid_code, grid = grids[pi % 2]
                alias = compound[:-2] if compound.endswith(("花园", "小区", "家园")) else ""
                n_buildings = rng.randint(4, 9)
                rows.append([code, "compound", district_code, district, town_code, town,
                             community_code, community, grid_code, grid, road, gate, compound, "",
                             "", 0, 0, 1, f"{prefix}{road}{gate}{compound}", alias])
                for b in range(1, n_buildings + 1):
                    units = rng.randint(1, 4)
                    households = units * rng.choice((6, 11, 18)) * 2
                    rows.append([f"{code[:-2]}{b:02d}", "building", district_code, district,
                                 town_code, town, community_code, community, grid_code, grid,
                                 road, gate, compound, f"{b}号楼", units, households,
                                 int(households * 2.6), rng.randint(0, 2),
                                 f"{prefix}{road}{gate}{compound}{b}号楼", ""])
            for di, number in enumerate(sorted(rng.sample(range(1, 199, 2), 6)), 1):
                road = roads[di % len(roads)]
                grid_code, grid = grids[di % 2]
                rows.append([f"{community_code}4{di:05d}", "door", district_code, district,
                             town_code, town, community_code, community, grid_code, grid, road,
                             f"{number}号", "", "", "", rng.randint(0, 4), rng.randint(0, 10),
                             rng.randint(0, 5), f"{prefix}{road}{number}号", ""])
    rows.sort(key=lambda r: r[0])
    with open(OUT, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    print(f"wrote {len(rows)} rows to {OUT}")


if __name__ == "__main__":
    main()

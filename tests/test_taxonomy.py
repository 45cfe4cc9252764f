import pytest

from db.reference import ReferenceStore
from domain.routing import route
from domain.taxonomy import TaxonomyError, parse_taxonomy
from conftest import shared_file


async def test_import_the_shared_3_level_taxonomy(conn):
    categories = parse_taxonomy(shared_file("taxonomy/teddycup2020_gov_message_taxonomy.csv"))
    counts = {lvl: sum(1 for c in categories if c.level == lvl) for lvl in (1, 2, 3)}
    assert counts == {1: 15, 2: 118, 3: 517}
    await ReferenceStore(conn).import_taxonomy(categories)
    await ReferenceStore(conn).import_taxonomy(categories)  # idempotent
    row = await conn.fetchrow("SELECT * FROM categories WHERE code = '010213'")
    assert row["path"] == "城乡建设/城市建设和市政管理/燃气供应" and row["parent_code"] == "0102"


def test_malformed_taxonomy_names_the_line(tmp_path):
    bad = tmp_path / "t.csv"
    bad.write_text("l1_code,l1,l2_code,l2,l3_code,l3\n01,城乡建设,0101,安全,010101,事故\n"
                   "01,城乡建设,0201,错位,020101,x\n", encoding="utf-8")
    with pytest.raises(TaxonomyError, match=r"t.csv:3: code 0201 does not extend its parent 01"):
        parse_taxonomy(bad)
    bad.write_text("code,name\n1,x\n", encoding="utf-8")
    with pytest.raises(TaxonomyError, match="missing column"):
        parse_taxonomy(bad)


@pytest.mark.parametrize("district, town, category, unit", [
    ("370303", "370303009", "010201", "ZD"),   # street light in 张店: the district
    ("370305", None, "010302", "LZ"),          # heating in 临淄: the district
    ("370303", None, "050301", "GJJ"),          # housing fund: city-wide line
    ("370303", None, "060201", "CL"),           # disability card: longest prefix wins
    (None, None, "010201", "ZJJ"),             # no area known: the bureau
    (None, None, None, "RX"),                  # nothing known: the hotline office
])
async def test_routing_by_area_and_category(conn, district, town, category, unit):
    rules = await ReferenceStore(conn).routing_rules()  # as a seat reads them at start-up
    assert route(rules, district, town, category).code == unit

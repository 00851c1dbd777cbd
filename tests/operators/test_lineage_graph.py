"""The regulator sees a derived product's lineage as a graph: the product and both of its sources, each
with its holder, an edge from each source to the product; the desk links every agreement to the
products built under it; other roles are refused."""

from __future__ import annotations

import re

from factories import login, make_user
from operators import service
from pipeline_factories import pipeline, run, world

JOIN_SQL = ("SELECT region_city(v.区划代码) AS 地市, count(*) AS 人次, sum(c.机构数) AS 机构数 "
            "FROM visits v LEFT JOIN clinics c ON c.区划代码 = v.区划代码 GROUP BY ALL ORDER BY ALL")


async def test_the_lineage_graph_shows_both_sources_and_their_holder(client, job_runtime):
    w = await world(job_runtime)
    p = await pipeline(w, sql=JOIN_SQL, sources={"visits": w["visits"]["id"], "clinics": w["clinics"]["id"]},
                       title="各地市门诊与机构")
    done = await run(w, p["id"], job_runtime)
    assert done["status"] == "done", done["error"]
    g = await service.lineage_graph(done["asset"])
    by_id = {n["id"]: n for n in g["nodes"]}
    assert set(by_id) == {done["asset"], w["visits"]["id"], w["clinics"]["id"]}
    assert by_id[done["asset"]]["derived"] and by_id[done["asset"]]["depth"] == 0
    assert {by_id[w["visits"]["id"]]["depth"], by_id[w["clinics"]["id"]]["depth"]} == {1}
    assert sorted((e["source"], e["target"]) for e in g["edges"]) == sorted(
        [(w["visits"]["id"], done["asset"]), (w["clinics"]["id"], done["asset"])])
    # sources sit left of the product they feed
    assert all(e["x1"] <= e["x2"] for e in g["edges"])

    regulator = await make_user(["regulator"])
    await login(client, regulator)
    desk = await client.get("/regulator")
    assert f'href="/regulator/lineage/{done["asset"]}"' in desk.text
    page = await client.get(f"/regulator/lineage/{done['asset']}")
    assert page.status_code == 200 and 'data-testid="lineage-graph"' in page.text
    assert len(re.findall(r'data-testid="lineage-node"', page.text)) == 3
    assert "门诊就诊明细" in page.text and "医疗机构数" in page.text and w["holder"]["org"]["name"] in page.text
    plain = await client.get(f"/regulator/lineage/{w['visits']['id']}")  # not derived: said so, no graph
    assert 'data-testid="lineage-none"' in plain.text

    client.cookies.clear()
    await login(client, await make_user(["buyer"]))
    assert (await client.get(f"/regulator/lineage/{done['asset']}")).status_code == 403

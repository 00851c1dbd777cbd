"""Revenue along lineage: the shares of a derived product's sale, as a rule over every lineage
(Hypothesis), and in the ledger at release and back on refund."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from billing import ledger, orders
from billing.tables import JournalTxn
from billing._accounts import payable_code
from operators._shares import Source, split
from derived_factories import as_user, derived_listing, order, paid

_graphs = st.dictionaries(
    st.integers(1, 8),
    st.lists(st.builds(Source, asset_id=st.integers(1, 8), holder_id=st.integers(1, 5)), max_size=4),
    max_size=8)


@settings(max_examples=300, deadline=None)
@given(amount=st.integers(0, 10**12), seller=st.integers(1, 5), asset=st.integers(1, 8), graph=_graphs,
       bps=st.integers(0, 10_000), depth=st.integers(0, 12))
def test_shares_are_exact_never_negative_and_end_on_cycles(amount, seller, asset, graph, bps, depth):
    shares = split(amount_fen=amount, seller_org=seller, asset_id=asset, sources=graph, bps=bps, max_depth=depth)
    assert all(fen > 0 for fen in shares.values()) and seller not in shares
    first = amount * bps // 10_000 if amount > 0 else 0
    direct = {s.holder_id for s in graph.get(asset, ()) if s.holder_id != seller and s.asset_id != asset}
    assert sum(shares.values()) <= first
    # nothing comes back to the seller round a cycle when it holds no source anywhere: all it passes is shared
    if depth > 0 and direct and not any(s.holder_id == seller for srcs in graph.values() for s in srcs):
        assert sum(shares.values()) == first


def test_shares_split_equally_and_pass_up_the_lineage():
    # product 1 (seller 9) from holder 2's table 2 and holder 3's derived table 3, itself from holder 4's table 4
    graph = {1: [Source(2, 2), Source(3, 3)], 3: [Source(4, 4)]}
    assert split(amount_fen=100_010, seller_org=9, asset_id=1, sources=graph, bps=1000) == {2: 5001, 3: 4500, 4: 500}
    # a cycle back to the product passes nothing round again; a depth limit stops the walk
    looped = {1: [Source(2, 2)], 2: [Source(1, 9)]}
    assert split(amount_fen=1000, seller_org=9, asset_id=1, sources=looped, bps=1000) == {2: 100}
    assert split(amount_fen=1000, seller_org=9, asset_id=1, sources=graph, bps=1000, max_depth=1) == {2: 50, 3: 50}


async def _paid_and_confirmed(w: dict, job_runtime) -> dict:
    row = await order(w)
    waiting = await paid(w, row["id"], job_runtime)
    with as_user(w["buyer"]):
        await orders.confirm(order_id=row["id"], org_id=w["buyer"]["org"]["id"])
    return waiting


async def test_a_release_shares_with_the_source_holder_and_a_full_refund_takes_it_all_back(job_runtime):
    w = await derived_listing(job_runtime)
    order = await _paid_and_confirmed(w, job_runtime)
    op, source = payable_code(w["operator"]["org"]["id"]), payable_code(w["holder"]["org"]["id"])
    ref = orders.ref(order["id"])
    release = await JournalTxn.select(JournalTxn.id).where(JournalTxn.reference == ref,
                                                            JournalTxn.kind == "release").first()
    assert release is not None
    shared = await ledger.balance(account_code=source)
    seller_net = shared + await ledger.balance(account_code=op)
    assert shared == seller_net * 1000 // 10_000 > 0  # 10% of what the release credited the operator
    assert await JournalTxn.count().where(JournalTxn.reference == ref, JournalTxn.kind == "lineage_share") == 1

    await orders.refund(order_id=order["id"], amount_fen=order["total_fen"] // 3, reason="部分数据缺失",
                        recorded_by="finance")
    part = await ledger.balance(account_code=source)
    assert 0 < part < shared
    await orders.refund(order_id=order["id"], amount_fen=await orders.refundable_fen(order["id"]),
                        reason="全部退回", recorded_by="finance")
    assert await ledger.balance(account_code=source) == 0 and await ledger.balance(account_code=op) == 0
    assert (await ledger.check()).ok

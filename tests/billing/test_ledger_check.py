"""`market ledger check`, run as an operator would (a subprocess on the test database)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from billing import ledger
from billing.tables import Account, Posting
from factories import make_org

ROOT = Path(__file__).resolve().parents[2]


async def _market(settings, *args) -> subprocess.CompletedProcess:
    env = {**os.environ, "MARKET_VAR_DIR": str(settings.var_dir), "MARKET_DATABASE_URL": settings.database_url,
           "MARKET_SECRET_KEY": settings.secret_key, "PYTHONPATH": str(ROOT)}
    if not settings.broker_url:
        env.pop("MARKET_BROKER_URL", None)
    return await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "market.cli", *args], cwd=ROOT, env=env,
                                   capture_output=True, text=True, timeout=120)


async def _some_trade() -> int:
    holder = await make_org()
    await ledger.record_payment(order_ref="order:1", total_fen=106_000, provider="bank_transfer")
    released = await ledger.release(order_ref="order:1", holder_org_id=holder["id"], amount_fen=100_000,
                                    tax_fen=6_000, tier="product")
    await ledger.refund(order_ref="order:1", amount_fen=6_000)
    await ledger.payout(holder_org_id=holder["id"], amount_fen=50_000)
    return released.txn_id


async def test_clean_ledger_exits_zero(settings):
    empty = await _market(settings, "ledger", "check")
    assert empty.returncode == 0, empty.stderr
    await _some_trade()
    proc = await _market(settings, "ledger", "check")
    assert proc.returncode == 0, proc.stderr
    assert "ledger OK: 4 transactions" in proc.stdout


async def test_a_posting_edited_by_hand_is_named(settings):
    release_id = await _some_trade()
    fund = await Account.select(Account.id).where(Account.code == "fund").first()
    await Posting.update({Posting.amount_fen: Posting.amount_fen - 1}).where(
        Posting.txn == release_id, Posting.account == fund["id"])
    proc = await _market(settings, "ledger", "check")
    assert proc.returncode != 0
    assert f"transaction #{release_id} (release order:1) does not balance" in proc.stderr
    report = await ledger.check()
    assert not report.ok and f"#{release_id}" in report.problem


async def test_a_kept_balance_edited_by_hand_is_named(settings):
    await _some_trade()
    await Account.update({Account.balance_fen: Account.balance_fen + 100}).where(Account.code == "escrow")
    proc = await _market(settings, "ledger", "check")
    assert proc.returncode != 0 and "account escrow keeps a balance of" in proc.stderr


async def test_a_transaction_with_a_missing_posting_is_named():
    release_id = await _some_trade()
    payments = await Posting.select(Posting.id).where(Posting.txn == release_id - 1)
    await Posting.delete().where(Posting.id.is_in([p["id"] for p in payments]))
    report = await ledger.check()
    assert not report.ok and f"transaction #{release_id - 1} (payment order:1) has 0 posting(s)" in report.problem

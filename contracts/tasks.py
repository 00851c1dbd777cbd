"""Jobs of the contracts package: thin, idempotent, taking ids."""

from __future__ import annotations

from market import jobs


@jobs.job(name="contracts.contract_rendered", max_retries=5)
async def contract_rendered(document_id: int) -> None:
    """A contract's PDF was rendered: open it for signing (and countersign it if the holder chose to)."""
    from contracts import service

    await service.on_document_rendered(document_id=document_id)

"""Governance-fund disbursements: proposals, the agency's decision, payment through the ledger; the 治理基金 pages."""

"""Platform finance (财务): open invoices, reconciliation, payouts to holders, the trial balance."""

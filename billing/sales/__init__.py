"""The holder's 销售: its sales, buyers, amounts due, statements and payouts (service, pages, API)."""

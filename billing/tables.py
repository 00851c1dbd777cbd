"""Tables of the billing package (none yet)."""

"""Tables of the contracts package (none yet)."""

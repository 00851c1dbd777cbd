"""Tables of the operators package (none yet)."""

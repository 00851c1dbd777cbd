"""Tables of the listings package (none yet)."""

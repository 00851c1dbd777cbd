"""What each role's home page (工作台) shows from the catalogue: counts of what waits for them
(`todo`, one query per count) and the panels the composition root registers (`panels`)."""

"""Stage 4, publication (上架): an asset offered at a tier with price plans, through platform review
and public notice (公示) to sale with a registration code; suspension, delisting, new versions on sale,
freshness checks (`service`), and this process's cache of listing views (`view_cache`)."""

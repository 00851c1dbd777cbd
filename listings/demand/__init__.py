"""The demand board (需求广场): buyers say what they need and the catalogue answers (`service`)."""

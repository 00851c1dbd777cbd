"""Imported once by the profiling jobs' fork server (see _profile_child.PRELOAD): the GB/T 2260 region table is
parsed there, so that each child inherits it instead of parsing stdnum's loc.dat again (~0.1 s a job)."""

from listings.profiling import region_codes

region_codes()

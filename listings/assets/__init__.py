"""Stage 1, intake: a holder's upload becomes a data asset with immutable versions; each version is
read, profiled and graded by a job (see `service`). Reading and profiling live in their own stages."""

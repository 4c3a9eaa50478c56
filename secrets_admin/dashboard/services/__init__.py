"""The dashboard's numbers: aggregates over indexed columns, a fixed number of queries whatever
the size of the estate (tests/dashboard/test_queries.py holds it to that)."""

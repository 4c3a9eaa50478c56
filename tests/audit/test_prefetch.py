"""The verifier's fetch helper thread: it ends when the reader stops, and passes errors on."""

import threading

import pytest

from secrets_admin.audit import verification


def helpers():
    return [t for t in threading.enumerate() if t.name == "audit-verify-fetch"]


def test_the_helper_ends_when_the_reader_stops_early():
    fetched = []

    def endless(size):
        fetched.append(size)
        return [(len(fetched), i) for i in range(3)]

    rows = verification._prefetched(endless)
    assert [next(rows) for _ in range(4)] == [(1, 0), (1, 1), (1, 2), (2, 0)]
    rows.close()
    assert helpers() == []
    assert len(fetched) <= 5  # read ahead by at most the queue's two chunks (plus one in flight)


def test_a_fetch_error_is_raised_in_the_reader():
    calls = iter([[(1,)], RuntimeError("connection lost")])

    def failing(size):
        item = next(calls)
        if isinstance(item, Exception):
            raise item
        return item

    rows = verification._prefetched(failing)
    assert next(rows) == (1,)
    with pytest.raises(RuntimeError, match="connection lost"):
        next(rows)
    assert helpers() == []


def test_all_rows_come_through_in_order():
    chunks = iter([[1, 2], [3], [4, 5, 6], []])
    assert list(verification._prefetched(lambda size: next(chunks))) == [1, 2, 3, 4, 5, 6]

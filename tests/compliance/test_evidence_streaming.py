"""The export's fast path on its own: the audit entries read by two reader threads on their own
connections (committed rows, as in production: no test transaction), and the member deflated on
threads — the zip still verifies, and one changed entry still fails it."""

import io
import os
import random
import zipfile
import zlib
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from secrets_admin.audit import actions as audit_actions
from secrets_admin.audit import sequencer
from secrets_admin.audit.services import record
from secrets_admin.compliance import verifier
from secrets_admin.compliance.services import deflate, entries, evidence

# The threaded COPY readers run only on PostgreSQL (CI's database); on SQLite the export takes
# its one-connection path (services/evidence.py), which tests/compliance/test_evidence.py covers.
pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the threaded COPY readers exist only on PostgreSQL; SQLite's export path is in test_evidence.py",
)


def test_pieces_deflated_on_threads_are_one_stream_any_unzip_reads():
    rng = random.Random(7)
    text = b"".join(f"{n},user{rng.randrange(50)},{rng.random()}\n".encode() for n in range(200_000))
    pieces = [text[:10], os.urandom(70_000), text[10:3_000_000], b"", text[3_000_000:]]
    compressor, out = deflate.ParallelDeflate(workers=2), []
    for piece in pieces:
        out.append(compressor.compress(piece))
    out.append(compressor.flush())
    stream = b"".join(out)
    assert zlib.decompressobj(-15).decompress(stream) == b"".join(pieces)
    single = zlib.compressobj(deflate.LEVEL, zlib.DEFLATED, -15)
    one_stream = single.compress(b"".join(pieces)) + single.flush()
    assert len(stream) < 1.01 * len(one_stream)  # each piece had the one before as its dictionary


@pytest.mark.django_db(transaction=True)
def test_the_threaded_readers_export_verifies_and_close_their_connections(monkeypatch):
    monkeypatch.setattr(entries, "SPAN", 3)  # many spans over two readers
    for n in range(20):
        with transaction.atomic():
            record(audit_actions.EXPORTED, actor="=sum(A1)" if n == 7 else "test", data={"n": n})
    sequencer.link()
    others = connections_besides_mine()
    today = timezone.now()
    export, chunks = evidence.start_export(
        framework_id="soc2", start=today - timedelta(days=1), end=today + timedelta(days=1), actor="test"
    )
    assert not connection.in_atomic_block
    data = b"".join(chunks)
    report = verifier.verify(io.BytesIO(data))
    assert report.code == 0, report.problems
    assert report.entries >= 21  # ours and the export's own entry
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        csv = archive.read("audit-entries.csv").decode()
    sequences = [int(line.split(",", 1)[0]) for line in csv.splitlines()[1:]]
    assert sequences == list(range(sequences[0], sequences[0] + len(sequences)))  # in order, none twice
    assert ",'=sum(A1)," in csv
    assert connections_besides_mine() == others  # the readers' connections are closed


def connections_besides_mine() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_a_download_stopped_halfway_stops_the_readers(monkeypatch):
    import threading

    monkeypatch.setattr(entries, "SPAN", 2)
    for n in range(12):
        with transaction.atomic():
            record(audit_actions.EXPORTED, actor="test", data={"n": n})
    sequencer.link()
    spans = entries.csv_spans(1, 12)
    assert next(spans).startswith(b"1,")
    spans.close()  # the client went away
    assert not [t for t in threading.enumerate() if t.name.startswith("evidence-copy")]

"""Deflate on several threads, for one zip member (as pigz does).

zipfile compresses a member with one zlib stream on the writing thread; at a few hundred
megabytes that is the export's largest cost in Python. Here each piece is compressed on a pool
thread (zlib lets go of the GIL) with the previous piece's last 32 KiB as its dictionary and
ends on a byte boundary (Z_SYNC_FLUSH), so the pieces joined in order are one valid deflate
stream that any unzip reads; `flush` adds the final empty block. The output is the same size
as one stream's, give or take a few bytes per piece.

`ParallelDeflate` has the two methods zipfile calls on its compressor (`compress`, `flush`);
`install(handle)` puts it in place of a member's own before anything is written.
"""

import zlib
from collections import deque
from concurrent.futures import ThreadPoolExecutor

WINDOW = 32 * 1024
LEVEL = 1


def _piece(data: bytes, dictionary: bytes) -> bytes:
    if dictionary:
        compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -15, zdict=dictionary)
    else:
        compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)


class ParallelDeflate:
    def __init__(self, workers: int = 2):
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="evidence-deflate")
        self.pending: deque = deque()
        self.workers = workers
        self.tail = b""

    def compress(self, data) -> bytes:
        """Queue `data`; return what is ready, in order (at most `workers` pieces stay queued)."""
        data = bytes(data)
        if not data:
            return b""
        self.pending.append(self.pool.submit(_piece, data, self.tail))
        self.tail = data[-WINDOW:] if len(data) >= WINDOW else (self.tail + data)[-WINDOW:]
        out = []
        while self.pending and (len(self.pending) > self.workers or self.pending[0].done()):
            out.append(self.pending.popleft().result())
        return b"".join(out)

    def flush(self) -> bytes:
        try:
            out = [future.result() for future in self.pending]
            self.pending.clear()
            final = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
            return b"".join(out) + final.flush(zlib.Z_FINISH)  # an empty last block
        finally:
            self.pool.shutdown(wait=True)


def install(handle, workers: int = 2) -> None:
    """Make zipfile's member `handle` (opened for writing, nothing written) deflate on threads."""
    if getattr(handle, "_compressor", None) is None:
        raise ValueError("the member is not deflated")
    handle._compressor = ParallelDeflate(workers)

"""The hash chain: canonical form of an entry, its hash, and verification of a row stream.

hash = sha256(canonical JSON of the entry including prev_hash), where canonical JSON has sorted
keys, separators "," and ":", UTF-8 without escaping, and times as UTC ISO 8601 with
microseconds and a "Z". The first entry's prev_hash is GENESIS (64 zeros).

The actor's user id is deliberately not hashed: Django sets it to NULL when the user is deleted,
and that must not break the chain. The copied `actor_name` is hashed.
"""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

GENESIS = "0" * 64

# Column order of the rows `verify_rows` expects (also the values_list order the service uses).
FIELDS = (
    "sequence",
    "created_at",
    "actor_name",
    "action",
    "target_type",
    "target_id",
    "target_repr",
    "request_id",
    "ip",
    "data",
    "prev_hash",
    "hash",
)

_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_string = json.encoder.encode_basestring  # how _ENCODER writes a str (C implementation)
# The verifier's hot path: the C encoder built once (JSONEncoder.encode builds it per call) and
# the C scanner without json.loads' whitespace handling. Same output as _ENCODER / json.loads.
if json.encoder.c_make_encoder is not None:
    _encode_once = json.encoder.c_make_encoder(
        None, _ENCODER.default, _string, None, ":", ",", True, False, False
    )

    def _encode_data(data) -> str:
        return "".join(_encode_once(data, 0))

else:  # pragma: no cover - Python without the _json accelerator
    _encode_data = _ENCODER.encode
_scan_json = json.decoder.JSONDecoder().scan_once


def format_time(moment: datetime) -> str:
    """UTC, always with microseconds: 2026-11-28T14:51:05.000000Z."""
    if moment.utcoffset():
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def entry_hash(
    sequence,
    created_at,
    actor_name,
    action,
    target_type,
    target_id,
    target_repr,
    request_id,
    ip,
    data,
    prev_hash,
) -> str:
    """The hex sha256 of the canonical JSON of one entry. `created_at` is a datetime, or a string
    already in `format_time` form (the verifier's PostgreSQL fast path)."""
    if created_at.__class__ is not str:
        created_at = format_time(created_at)
    # Equal to _ENCODER.encode({...all fields...}); the fixed keys are written out in sorted
    # order by hand because the verifier hashes a million of these (tests prove the equality).
    text = (
        f'{{"action":{_string(action)},"actor_name":{_string(actor_name)},"created_at":{_string(created_at)},'
        f'"data":{_encode_data(data)},"ip":{_string(ip)},"prev_hash":{_string(prev_hash)},'
        f'"request_id":{_string(request_id)},"sequence":{int(sequence)},"target_id":{_string(target_id)},'
        f'"target_repr":{_string(target_repr)},"target_type":{_string(target_type)}}}'
    )
    return hashlib.sha256(text.encode()).hexdigest()


def canonical_document(
    sequence,
    created_at,
    actor_name,
    action,
    target_type,
    target_id,
    target_repr,
    request_id,
    ip,
    data,
    prev_hash,
) -> str:
    """The canonical JSON of one entry, written the plain way (the definition entry_hash follows)."""
    document = {
        "sequence": sequence,
        "created_at": format_time(created_at),
        "actor_name": actor_name,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "target_repr": target_repr,
        "request_id": request_id,
        "ip": ip,
        "data": data,
        "prev_hash": prev_hash,
    }
    return _ENCODER.encode(document)


def normalise_data(data) -> dict:
    """The JSON round trip of `data`, exactly as the database will give it back.

    Raises ValueError for anything that is not a JSON object of JSON-safe values (NaN, sets,
    objects, NUL characters which PostgreSQL refuses).
    """
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError("audit data must be a dict of JSON-safe values")
    try:
        text = _ENCODER.encode(data)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"audit data must be JSON-safe: {exc}") from None
    if "\\u0000" in text:
        raise ValueError("audit data must not contain NUL characters")
    return json.loads(text)


@dataclass
class Outcome:
    """What a verification saw. `ok` is False at the first break; `broken_at` names its sequence."""

    ok: bool = True
    entries: int = 0
    first: int | None = None  # first sequence checked
    last: int = 0  # last sequence that verified
    last_hash: str = GENESIS
    broken_at: int | None = None
    expected: str = ""
    found: str = ""
    problem: str = ""
    extra: dict = field(default_factory=dict)

    def fail(self, sequence: int, problem: str, expected: str = "", found: str = "") -> "Outcome":
        self.ok = False
        self.broken_at, self.problem, self.expected, self.found = sequence, problem, expected, found
        return self


def verify_rows(rows: Iterable[tuple], *, after: int = 0, prev_hash: str = GENESIS) -> Outcome:
    """Check rows that should follow entry `after` whose hash is `prev_hash`.

    Rows are tuples in FIELDS order, ascending sequence; `created_at` may be a datetime or a
    format_time string and `data` a dict or JSON text. Stops at the first break: a gap, a
    broken link or a hash mismatch."""
    outcome = Outcome(last=after, last_hash=prev_hash)
    expected_sequence = after + 1
    scan = _scan_json
    for seq, created, actor, action, ttype, tid, trepr, rid, ip, data, prev, stored in rows:
        if outcome.first is None:
            outcome.first = seq
        if seq != expected_sequence:
            return outcome.fail(expected_sequence, f"entry #{expected_sequence} is missing (next is #{seq})")
        if prev != prev_hash:
            return outcome.fail(seq, f"entry #{seq} does not link to #{seq - 1}", prev_hash, prev)
        if data.__class__ is str:  # the PostgreSQL fast path streams jsonb as text
            data = scan(data, 0)[0]
        computed = entry_hash(seq, created, actor, action, ttype, tid, trepr, rid, ip, data, prev)
        if computed != stored:
            problem = f"entry #{seq} was altered: its content does not match its hash"
            return outcome.fail(seq, problem, computed, stored)
        prev_hash = stored
        outcome.entries += 1
        outcome.last, outcome.last_hash = seq, stored
        expected_sequence += 1
    return outcome

"""The hash chain: canonical form of an entry, its two hashes, and verification of a row stream.

An entry is hashed twice:

    content_hash = sha256(canonical JSON of the entry's content)        written by record()
    hash         = sha256(canonical JSON of {content_hash, prev_hash, sequence})   by the sequencer

Canonical JSON has sorted keys, separators "," and ":", UTF-8 without escaping, and times as
UTC ISO 8601 with microseconds and a "Z". The content is created_at, actor_name, action,
target_type, target_id, target_repr, request_id, ip and data. The first linked entry's
prev_hash is GENESIS (64 zeros). Writers only insert content; the sequencer links committed
entries in the order it saw them commit, so the chain needs no lock held by writers.

The actor's user id is deliberately not hashed: Django sets it to NULL when the user is deleted,
and that must not break the chain. The copied `actor_name` is hashed.
"""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

GENESIS = "0" * 64

# The content an entry's content_hash covers, in the order record() and the verifier pass it.
CONTENT = (
    "created_at",
    "actor_name",
    "action",
    "target_type",
    "target_id",
    "target_repr",
    "request_id",
    "ip",
    "data",
)
# Column order of the rows `verify_rows` expects (also the export's column order).
FIELDS = ("sequence", *CONTENT, "content_hash", "prev_hash", "hash")

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
_sha256 = hashlib.sha256


def format_time(moment: datetime) -> str:
    """UTC, always with microseconds: 2026-11-28T14:51:05.000000Z."""
    if moment.utcoffset():
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def encode_data(data) -> str:
    """The canonical JSON of an entry's (normalised) data, as content_hash writes it."""
    return _encode_data(data)


def content_hash(
    created_at, actor_name, action, target_type, target_id, target_repr, request_id, ip, data, data_text=None
) -> str:
    """The hex sha256 of the canonical JSON of an entry's content. `created_at` is a datetime, or
    a string already in `format_time` form (the verifier's PostgreSQL fast path); `data_text`,
    when given, is `encode_data(data)` already written (record() stores that same text)."""
    if data_text is None:
        data_text = _encode_data(data)
    if created_at.__class__ is not str:
        created_at = format_time(created_at)
    # Equal to _ENCODER.encode({...content...}); the fixed keys are written out in sorted order
    # by hand because the verifier hashes a million of these (tests prove the equality).
    text = (
        f'{{"action":{_string(action)},"actor_name":{_string(actor_name)},"created_at":{_string(created_at)},'
        f'"data":{data_text},"ip":{_string(ip)},'
        f'"request_id":{_string(request_id)},"target_id":{_string(target_id)},'
        f'"target_repr":{_string(target_repr)},"target_type":{_string(target_type)}}}'
    )
    return _sha256(text.encode()).hexdigest()


def link_hash(sequence: int, prev_hash: str, content: str) -> str:
    """The chain hash the sequencer gives entry `sequence` (hex strings in, hex string out)."""
    text = f'{{"content_hash":"{content}","prev_hash":"{prev_hash}","sequence":{int(sequence)}}}'
    return _sha256(text.encode()).hexdigest()


def canonical_content(
    created_at, actor_name, action, target_type, target_id, target_repr, request_id, ip, data
) -> str:
    """The canonical JSON of an entry's content, written the plain way (the definition
    content_hash follows)."""
    document = {
        "created_at": format_time(created_at) if not isinstance(created_at, str) else created_at,
        "actor_name": actor_name,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "target_repr": target_repr,
        "request_id": request_id,
        "ip": ip,
        "data": data,
    }
    return _ENCODER.encode(document)


def canonical_link(sequence: int, prev_hash: str, content: str) -> str:
    """The canonical JSON link_hash covers, written the plain way."""
    return _ENCODER.encode({"sequence": sequence, "prev_hash": prev_hash, "content_hash": content})


def _as_stored(value):
    """A JSON value as PostgreSQL's jsonb gives it back. jsonb keeps numbers as `numeric`: a
    float Python writes with an exponent (every float of magnitude 1e16 or more, all of them
    whole) comes back as an integer, and -0.0 as 0.0. Convert those the same way here, so the
    hash taken before the insert matches the row read back (and SQLite stores the same)."""
    if value.__class__ is float:
        if value == 0:
            return 0.0
        if abs(value) >= 1e16:
            return int(Decimal(repr(value)))  # the digits jsonb keeps, not the binary value
        return value
    if isinstance(value, dict):
        return {key: _as_stored(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_stored(item) for item in value]
    return value


_SCALARS = frozenset({str, int, bool, type(None)})


def _flat(data) -> bool:
    """A plain dict of str keys and str, int, bool or None values, no string holding NUL or a
    backslash (most entries' data): its JSON round trip is an equal dict (no float to convert, no
    tuple, key or subclass to coerce), and what the full check refuses it would refuse too."""
    if data.__class__ is not dict:
        return False
    for key, value in data.items():
        if key.__class__ is not str or "\x00" in key or "\\" in key:
            return False
        kind = value.__class__
        if kind is str:
            if "\x00" in value or "\\" in value:
                return False
        elif kind not in _SCALARS:
            return False
    return True


def normalise_data(data) -> dict:
    """The JSON round trip of `data`, exactly as the database will give it back.

    Raises ValueError for anything that is not a JSON object of JSON-safe values (NaN, sets,
    objects, NUL characters which PostgreSQL refuses).
    """
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError("audit data must be a dict of JSON-safe values")
    if _flat(data):
        return {key: data[key] for key in sorted(data)}  # the round trip's result, keys sorted too
    try:
        text = _ENCODER.encode(data)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"audit data must be JSON-safe: {exc}") from None
    if "\\u0000" in text:
        raise ValueError("audit data must not contain NUL characters")
    return _as_stored(json.loads(text))


@dataclass
class Outcome:
    """What a verification saw. `ok` is False at the first break; `broken_at` names its sequence.

    `kind` says what the problem is: "altered" (content or link hash does not match), "link"
    (prev_hash does not name the entry before), "missing" (a gap), "cut" (entries gone from the
    end), "anchor" (an entry differs from the chain head anchored outside the database), or, for
    alerts that are not breaks, "anchor_stale" and "unlinked". `fingerprint` names one break
    stably, so a break someone acknowledged is recognised when a later verification meets it.
    """

    ok: bool = True
    entries: int = 0
    first: int | None = None  # first sequence checked
    last: int = 0  # last sequence that verified
    last_hash: str = GENESIS
    broken_at: int | None = None
    expected: str = ""
    found: str = ""
    problem: str = ""
    kind: str = ""
    fingerprint: str = ""
    stepped_over: list = field(default_factory=list)  # acknowledged breaks passed on the way
    extra: dict = field(default_factory=dict)

    def fail(
        self, sequence: int, problem: str, expected: str = "", found: str = "", *, kind: str = "altered"
    ) -> "Outcome":
        self.ok = False
        self.broken_at, self.problem, self.expected, self.found = sequence, problem, expected, found
        self.kind = kind
        self.fingerprint = f"{kind}:{sequence}:{found}"
        return self


def verify_rows(
    rows: Iterable[tuple], *, after: int = 0, prev_hash: str = GENESIS, accepted: frozenset = frozenset()
) -> Outcome:
    """Check rows that should follow entry `after` whose hash is `prev_hash`.

    Rows are tuples in FIELDS order, ascending sequence; `created_at` may be a datetime or a
    format_time string and `data` a dict or JSON text. Stops at the first break: a gap, a broken
    link or a hash mismatch — unless its fingerprint is in `accepted` (a break the security team
    acknowledged): then the row is taken as it is stored and checking goes on after it."""
    outcome = Outcome(last=after, last_hash=prev_hash)
    expected_sequence = after + 1
    scan, content_of, link_of = _scan_json, content_hash, link_hash
    for seq, created, actor, action, ttype, tid, trepr, rid, ip, data, content, prev, stored in rows:
        if outcome.first is None:
            outcome.first = seq
        problem = None
        if seq != expected_sequence:
            problem = (
                "missing",
                expected_sequence,
                f"entry #{expected_sequence} is missing (next is #{seq})",
            )
            problem += ("", stored)
        elif prev != prev_hash:
            problem = ("link", seq, f"entry #{seq} does not link to #{seq - 1}", prev_hash, prev)
        else:
            if data.__class__ is str:  # the PostgreSQL fast path streams jsonb as text
                data = scan(data, 0)[0]
            computed = content_of(created, actor, action, ttype, tid, trepr, rid, ip, data)
            if computed != content:
                problem = ("altered", seq, f"entry #{seq} was altered: its content does not match its hash")
                problem += (computed, content)
            else:
                linked = link_of(seq, prev, content)
                if linked != stored:
                    problem = ("altered", seq, f"entry #{seq} was altered: its chain hash is wrong")
                    problem += (linked, stored)
        if problem is not None:
            kind, at, text, expected, found = problem
            if f"{kind}:{at}:{found}" not in accepted:
                return outcome.fail(at, text, expected, found, kind=kind)
            outcome.stepped_over.append(f"{kind}:{at}:{found}")
        prev_hash = stored
        outcome.entries += 1
        outcome.last, outcome.last_hash = seq, stored
        expected_sequence = seq + 1
    return outcome

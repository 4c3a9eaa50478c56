"""The CSV tables of an evidence export, each streamed by keyset in chunks (no cursor or
transaction stays open between chunks, so a slow download holds nothing in the database).

Metadata only: ids, names, states and times — never a value, a token, an accessor or a key.
Cells a spreadsheet would run as a formula get one leading apostrophe, and so does a cell that
already starts with one, so the verifier can take exactly one off and hash what was stored.
"""

import json

from django.db import connection

from secrets_admin.audit import chain

CHUNK = 5000
_ESCAPE = ("=", "+", "-", "@", "\t", "\r", "'")


def cell(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return chain.format_time(value)
    text = value if isinstance(value, str) else str(value)
    return "'" + text if text.startswith(_ESCAPE) else text


def uncell(text: str) -> str:
    return text[1:] if text.startswith("'") else text


def keyset(queryset, fields: tuple, key: str = "pk"):
    """Rows of `queryset.values_list(*fields)` in `key` order, CHUNK at a time; `key` is the
    first field."""
    after = None
    while True:
        page = queryset if after is None else queryset.filter(**{f"{key}__gt": after})
        rows = list(page.order_by(key).values_list(*fields)[:CHUNK])
        if not rows:
            return
        yield from rows
        after = rows[-1][0]


# --- audit entries --------------------------------------------------------------------------

# PostgreSQL formats the time like chain.format_time and sends jsonb as text (the verifier's
# fast path), so no datetime or JSON round trip per row in Python.
_PG_ENTRIES = """
SELECT sequence, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), actor_name,
       action, target_type, target_id, target_repr, request_id, ip, data::text, content_hash, prev_hash, hash
FROM audit_auditentry WHERE sequence >= %s AND sequence <= %s ORDER BY sequence LIMIT %s
"""


def _escaped(column: str) -> str:
    quote = "''''"  # SQL for one apostrophe
    return (
        f"CASE WHEN left({column}, 1) IN ('=', '+', '-', '@', E'\\t', E'\\r', {quote}) "
        f"THEN {quote} || {column} ELSE {column} END"
    )


COPY_ENTRIES = (  # the same cells as `audit_entries`, written by the server (services/entries.py)
    "COPY (SELECT sequence, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "  # noqa: S608 (constant columns; bounds are int())
    + ", ".join(_escaped(c) for c in chain.CONTENT[1:-1])
    + ", data::text, content_hash, prev_hash, hash FROM audit_auditentry "
    "WHERE sequence >= {first} AND sequence <= {last} ORDER BY sequence) TO STDOUT (FORMAT csv)"
)


def audit_entries(first: int, last: int):
    """Linked entries first..last in chain order, as CSV cells (chain.FIELDS order)."""
    if not first:
        return
    from secrets_admin.audit.models import AuditEntry

    at = first
    while at <= last:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(_PG_ENTRIES, [at, last, CHUNK])
                rows = cursor.fetchall()
        else:
            rows = [
                (*row[:9], chain._ENCODER.encode(row[9]), *row[10:])
                for row in AuditEntry.objects.filter(sequence__gte=at, sequence__lte=last)
                .order_by("sequence")
                .values_list(*chain.FIELDS)[:CHUNK]
            ]
        if not rows:
            return
        for row in rows:
            yield (
                [str(row[0]), row[1] if isinstance(row[1], str) else chain.format_time(row[1])]
                + [cell(v) for v in row[2:9]]
                + [row[9], row[10], row[11], row[12]]
            )
        at = rows[-1][0] + 1


# --- the console's records of the range -------------------------------------------------------


def rotation_runs(start, end):
    from secrets_admin.rotation.models import RotationRun

    fields = ("pk", "secret_id", "secret__backend", "secret__path", "strategy", "state", "step", "reason")
    fields += ("actor_name", "created_at", "started_at", "finished_at", "new_version_id", "error")
    header = ["run", "secret", "backend", "path", "strategy", "state", "step", "reason", "actor"]
    header += ["created_at", "started_at", "finished_at", "new_version_id", "error"]
    rows = RotationRun.objects.filter(created_at__gte=start, created_at__lt=end)
    return header, ([cell(v) for v in row] for row in keyset(rows, fields))


def access_requests(start, end):
    from breakglass.models import AccessRequest

    fields = ("pk", "kind", "requester_name", "reason", "ticket", "scope", "duration_seconds", "groups")
    fields += ("record_session", "status", "request_hash", "created_at", "approved_at", "decided_at")
    header = [
        "request",
        "kind",
        "requester",
        "reason",
        "ticket",
        "scope",
        "duration_seconds",
        "approver_groups",
    ]
    header += ["record_session", "status", "request_hash", "created_at", "approved_at", "decided_at"]
    rows = AccessRequest.objects.filter(created_at__gte=start, created_at__lt=end)

    def out():
        for row in keyset(rows, fields):
            row = list(row)
            row[5] = " ".join(item.get("path", "") for item in row[5] or [])
            row[7] = " ".join(row[7] or [])
            yield [cell(v) for v in row]

    return header, out()


def approvals(start, end):
    from breakglass.models import Approval

    fields = (
        "pk",
        "request_id",
        "group",
        "approver_name",
        "request_hash",
        "used_code_id",
        "created_at",
        "voided_at",
    )
    header = [
        "approval",
        "request",
        "group",
        "approver",
        "request_hash",
        "mfa_proof",
        "created_at",
        "voided_at",
    ]
    rows = Approval.objects.filter(request__created_at__gte=start, request__created_at__lt=end)

    def out():
        for row in keyset(rows, fields):
            row = list(row)
            row[5] = f"one-time code #{row[5]}" if row[5] else "none"
            yield [cell(v) for v in row]

    return header, out()


def grants(start, end):
    from breakglass.models import Grant

    fields = (
        "pk",
        "request_id",
        "request__kind",
        "backend",
        "state",
        "policy_name",
        "issued_at",
        "expires_at",
    )
    fields += ("revealed_at", "ended_at", "ended_by_name", "end_reason", "token_gone_at")
    header = ["grant", "request", "kind", "backend", "state", "policy", "issued_at", "expires_at"]
    header += ["revealed_at", "ended_at", "ended_by", "end_reason", "token_gone_at"]
    rows = Grant.objects.filter(issued_at__gte=start, issued_at__lt=end)
    return header, ([cell(v) for v in row] for row in keyset(rows, fields))


def control_results(results):
    """(header, rows) of every control and (failing-items) every failing item, from scoring."""
    controls = [["framework", "control", "title", "status", "measure", "measure_status", "summary"]]
    items = [["framework", "control", "measure", "kind", "id", "name", "reason"]]
    for framework in results:
        for control in framework.controls:
            for result in control.results:
                controls.append(
                    [
                        cell(framework.framework.id),
                        cell(control.control.id),
                        cell(control.control.title),
                        control.status,
                    ]
                    + [result.measure, result.status, cell(result.summary)]
                )
                for item in result.failing:
                    items.append(
                        [cell(framework.framework.id), cell(control.control.id), result.measure]
                        + [item.kind, cell(item.id), cell(item.name), cell(item.reason)]
                    )
    return controls, items


def dumps(document) -> bytes:
    return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n").encode()

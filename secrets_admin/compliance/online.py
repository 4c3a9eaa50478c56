"""Online verification of an evidence export: its anchors against OpenBao.

Offline, the verifier proves the zip's entries link into one chain that meets the anchors
*listed in proof.json* — but whoever rewrites the entries can rewrite those anchors too. Here
each listed anchor is read back from the anchor store this console writes (AUDIT_ANCHOR, a KV v2
path whose versions the console may add but never delete or change) by its version number, and
must hold the same sequence and hash. Run after the offline checks (`verify_evidence --online`):
together they prove the carried entries are the ones the ledger held when OpenBao took those
heads. An export with no anchor, none at its end, or anchors from another store fails here,
because OpenBao cannot vouch for it.
"""

import json
import zipfile
import zlib

from django.conf import settings

from secrets_admin.audit import anchors
from secrets_admin.backends import BackendError, get_backend
from secrets_admin.compliance.verifier import Report


def _listed(path, report: Report) -> list | None:
    try:
        with zipfile.ZipFile(path) as archive:
            proof = json.loads(archive.read("proof.json").decode("utf-8"))
    except (KeyError, OSError, ValueError, zipfile.BadZipFile, zlib.error) as exc:
        report.fail(f"online: proof.json cannot be read ({type(exc).__name__})")
        return None
    listed = proof.get("anchors") or (proof.get("segment") or {}).get("anchors") or []
    return listed if isinstance(listed, list) else []


def _compare(backend, key: str, anchor, report: Report) -> bool:
    """One listed anchor against OpenBao's version of it; False when OpenBao cannot be read."""
    try:
        version, sequence, digest = int(anchor["version"]), int(anchor["sequence"]), str(anchor["hash"])
        role, store = str(anchor.get("role", "")), anchor.get("store")
    except (KeyError, TypeError, ValueError):
        report.fail(f"online: proof.json has a malformed anchor: {anchor!r}"[:300])
        return True
    if store != settings.AUDIT_ANCHOR:
        report.fail(
            f"online: anchor v{version} is from {store!r}, not this console's store {settings.AUDIT_ANCHOR!r}"
        )
        return True
    if version < 1:
        report.fail(f"online: anchor v{version} names no version of {store}")
        return True
    try:
        found = backend.read_anchor(key, version=version)
    except BackendError as exc:
        report.fail(f"online: OpenBao could not be read, so the anchors are unchecked ({exc})")
        return False
    document, held = found if found else ({}, 0)
    try:
        stored = (int(document["sequence"]), str(document["hash"]))
    except (KeyError, TypeError, ValueError):
        stored = None
    if held != version or stored is None:
        report.fail(f"online: OpenBao holds no anchor version {version} at {store}")
    elif stored != (sequence, digest):
        report.fail(
            f"online: the {role} anchor v{version} in the proof says #{sequence} {digest}, "
            f"but OpenBao's version {version} holds #{stored[0]} {stored[1]}"
        )
    else:
        report.lines.append(f"online: the {role} anchor v{version} (#{sequence}) is what OpenBao holds")
    return True


def verify_anchors(path, report: Report) -> Report:
    """Check the anchors of the export at `path` against OpenBao; failures go into `report`."""
    where = anchors.store()
    if where is None:
        return report.fail("online: anchoring is off here (AUDIT_ANCHOR=off): nothing to check against")
    listed = _listed(path, report)
    if listed is None:
        return report
    if not listed:
        return report.fail("online: the proof lists no anchor, so OpenBao cannot vouch for any entry")
    backend = get_backend(where[0])
    for anchor in listed:
        if not _compare(backend, where[1], anchor, report):
            return report
    if not any(isinstance(a, dict) and a.get("role") == "end" for a in listed):
        report.fail(
            "online: no anchor covers the end of the segment, so OpenBao cannot vouch for its last entries"
        )
    return report

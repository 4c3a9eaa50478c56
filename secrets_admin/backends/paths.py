"""Backend paths typed by a person are checked before any backend call.

A path reaches a URL (OpenBao: `/v1/<mount>/...`). HTTP clients remove `.` and `..` segments
(RFC 3986), so `secret/../../sys/mounts` would become `/v1/sys/mounts`: another API, under the
console's own token. `parts()` refuses every form we know of such a path — dot segments, empty
segments, backslashes, percent-encoding (decoded by some layer into a dot or a slash), control and
invisible characters, and look-alikes that normalise into dots or slashes (full-width "．",
"‥") — and says in words what to fix. Each adapter then checks the first part is one of *its*
mounts for the right engine, and `request_path()` guards every URL an adapter builds, including
the ones made from keys a backend listed.

Refusals are `BackendError(reason="refused input")`: the forms show the message as it is.
"""

import unicodedata

from secrets_admin.backends.base import BackendError

MAX_LENGTH = 1024
DOTS = (".", "..")


def _plain(text: str) -> bool:
    """Printable ASCII: no control or format character, and NFKC leaves it as it is, so the
    per-character checks below have nothing to find (every OpenBao call asks, twelve a rotation)."""
    return text.isascii() and text.isprintable()


def refused(backend: str, message: str) -> BackendError:
    return BackendError(message, permanent=True, backend=backend, reason="refused input")


def parts(backend: str, path: str) -> list[str]:
    """The `/`-separated parts of a path a person typed, or BackendError naming what to fix."""
    if not path:
        raise refused(backend, "enter a path")
    if len(path) > MAX_LENGTH:
        raise refused(backend, f"a path has at most {MAX_LENGTH} characters")
    plain = _plain(path)
    if not plain and any(unicodedata.category(ch).startswith("C") for ch in path):
        raise refused(backend, "a path cannot contain control or invisible characters: type it on one line")
    if "\\" in path:
        raise refused(backend, "a path separates its parts with /, never with \\")
    if "%" in path:
        raise refused(backend, "a path cannot contain %: type it as plain text, not URL-encoded")
    if "?" in path or "#" in path:
        raise refused(backend, "a path cannot contain ? or #")
    if not plain and unicodedata.normalize("NFKC", path) != path:
        raise refused(
            backend,
            "a path cannot contain characters that stand in for others (such as full-width dots "
            "or slashes): type it in plain characters",
        )
    split = path.split("/")
    if any(part == "" for part in split):
        raise refused(backend, "a path cannot start or end with / or contain //")
    if any(part in DOTS for part in split):
        raise refused(backend, 'a path cannot contain "." or ".." parts: write it in full, from its mount')
    if any(part != part.strip() for part in split):
        raise refused(backend, "a path's parts cannot start or end with spaces")
    return split


def request_path(backend: str, path: str) -> str:
    """A URL path an adapter is about to request, checked once more (it may come from a key the
    backend listed, or from configuration): no dot or empty segments, nothing invisible. A trailing
    `/` (a folder to LIST) is allowed. Returns the path without surrounding slashes."""
    inner = path.strip("/")
    split = inner.split("/")
    if any(part in DOTS or part == "" for part in split) or "\\" in inner:
        raise refused(backend, f"refusing to request {path!r}: it would leave the path it names")
    if not _plain(inner) and any(unicodedata.category(ch) in ("Cc", "Cf") for ch in inner):
        raise refused(backend, f"refusing to request {path!r}: it holds control characters")
    return inner

"""Sealed Secrets in Git (`kind: sealed`): a local clone of a repository of SealedSecret manifests.

Config (an entry of SECRET_BACKENDS): `path` (the clone), optional `remote` (a remote name or
URL) and `branch` (default: the clone's current branch), `timeout` (seconds per git call,
default 30). With a remote, every walk first fetches the branch and fast-forwards a clean clone;
a clone with uncommitted changes or a branch that diverged from the remote is left as it is
and reported (a ListingProblem), never overwritten.

Paths are `file#namespace/name`. A version is a commit that changed the manifest's file
(oldest first); the current one is the last change. Values stay sealed: the walk reads key
names and ciphertext only, and tells the sealing certificate from a configured private key
(demo, tests) or from the `candlefish.dev/sealed-with` annotation the console writes when it
seals, checked against the wrapped key's size.

Metadata is read from `candlefish.dev/*` annotations; it changes through Git (a pull request),
not through the console, and creating secrets is left to the re-seal rotation: this adapter
refuses write_metadata and create_secret (permanent), and the README says which contract cases
it joins.
"""

import logging
import os
from pathlib import Path

from secrets_admin.backends import metadata as md
from secrets_admin.backends import sealed_certs, sealing
from secrets_admin.backends.base import (
    BackendError,
    ListingProblem,
    RemoteSecret,
    RemoteVersion,
    SecretBackend,
)
from secrets_admin.backends.git import Repository
from secrets_admin.backends.sealed_manifests import SEALED_WITH, Manifest, parse

log = logging.getLogger(__name__)
YAML_SUFFIXES = (".yaml", ".yml")
TREE = "(working tree)"  # the path of problems about the clone as a whole


class SealedBackend(SecretBackend):
    kind = "sealed"

    def __init__(self, name, config):
        super().__init__(name, config)
        self.repo = Repository(
            config.get("path") or "", backend=name, timeout=float(config.get("timeout") or 30)
        )
        self.remote = config.get("remote") or ""
        self._branch = config.get("branch") or ""

    @property
    def branch(self) -> str:
        return self._branch or self.repo.current_branch() or "main"

    def error(self, message: str, *, reason: str, permanent: bool = True) -> BackendError:
        return BackendError(message, permanent=permanent, backend=self.name, reason=reason)

    def ping(self) -> None:
        if not self.repo.is_repository():
            raise self.error(f"{self.repo.path} is not a git clone", reason="not a repository")
        if self.remote:
            self.repo.ls_remote(self.remote)

    # --- the adapter contract --------------------------------------------------------------
    def iter_secrets(self):
        """Every SealedSecret in the clone's YAML files, depth-first by file path. A file that
        cannot be read or parsed yields a ListingProblem (path: the file) and the walk goes on;
        an unreachable remote or a path that is no clone raises BackendError."""
        yield from self.refresh()
        history = self.repo.history()
        for file in self.yaml_files():
            try:
                text = (self.repo.path / file).read_text(encoding="utf-8")
            except FileNotFoundError:
                yield ListingProblem(self.name, file, self.error(f"{file}: not found", reason="not found"))
                continue
            except (OSError, UnicodeDecodeError) as exc:
                why = getattr(exc, "strerror", None) or str(exc)
                yield ListingProblem(
                    self.name, file, self.error(f"{file}: unreadable ({why})", reason="unreadable")
                )
                continue
            manifests, problems = parse(file, text)
            for problem in problems:
                yield ListingProblem(
                    self.name, file, self.error(f"{file}: {problem}", reason="refused input")
                )
            for manifest in manifests:
                yield self.record(manifest, history.get(file, []))

    def describe(self, path: str) -> RemoteSecret:
        file, _, _ = path.partition("#")
        if not file or ".." in Path(file).parts or Path(file).is_absolute():
            raise self.error(f"{path!r} is not a manifest path (file#namespace/name)", reason="not a path")
        try:
            text = (self.repo.path / file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            raise self.error(f"describe {path}: not found", reason="not found") from None
        manifests, _ = parse(file, text)
        for manifest in manifests:
            if manifest.path == path:
                return self.record(manifest, self.repo.history().get(file, []))
        raise self.error(f"describe {path}: not found", reason="not found")

    def write_metadata(self, path, metadata):
        raise self.error(
            "sealed manifests take metadata changes through Git (a pull request editing their "
            "candlefish.dev/* annotations), not from the console",
            reason="refused input",
        )

    def create_secret(self, path, *, kind, metadata):
        raise self.error(
            "the console does not create sealed secrets; commit a SealedSecret, then rotate it",
            reason="refused input",
        )

    # --- the clone -------------------------------------------------------------------------
    def yaml_files(self) -> list[str]:
        """YAML files in the working tree, depth-first in path order, .git skipped."""
        found = []
        for root, dirs, files in os.walk(self.repo.path):
            dirs[:] = sorted(d for d in dirs if d != ".git")
            for name in sorted(files):
                if name.endswith(YAML_SUFFIXES):
                    found.append(str((Path(root) / name).relative_to(self.repo.path)))
        return sorted(found)

    def refresh(self):
        """Bring a clean clone up to its remote branch (fast-forward only); yield a ListingProblem
        for what stands in the way (uncommitted changes, a diverged branch)."""
        if not self.repo.is_repository():
            raise self.error(f"{self.repo.path} is not a git clone", reason="not a repository")
        dirty = self.repo.dirty_files()
        if dirty:
            shown = ", ".join(dirty[:5]) + (f" and {len(dirty) - 5} more" if len(dirty) > 5 else "")
            yield ListingProblem(
                self.name,
                TREE,
                self.error(f"uncommitted changes in the clone ({shown}); walked as they are", reason="dirty"),
            )
        if not self.remote:
            return
        branch = self.branch
        self.repo.fetch(self.remote, branch)
        theirs, ours = self.repo.head("FETCH_HEAD"), self.repo.head(branch)
        if theirs is None or theirs == ours:
            return
        if ours is not None and self.repo.is_ancestor(theirs, ours):
            return  # we are ahead (a re-seal not pushed yet): the push will settle it
        if ours is not None and not self.repo.is_ancestor(ours, theirs):
            yield ListingProblem(
                self.name,
                TREE,
                self.error(f"{branch} diverged from {self.remote}; not updated", reason="diverged"),
            )
            return
        if dirty or self.repo.current_branch() != branch:
            return  # never move a tree someone is working in
        with self.repo.exclusive(f"fast-forward {branch}"):
            self.repo.run("merge", "--ff-only", "--quiet", theirs, doing=f"fast-forward {branch}")

    # --- records ---------------------------------------------------------------------------
    def record(self, manifest: Manifest, commits) -> RemoteSecret:
        metadata, tags, problems = md.split(manifest.console_annotations())
        cert, known_by, cert_problems = self.certificate_of(manifest)
        newest = commits[0] if commits else None
        versions = tuple(
            RemoteVersion(
                version_id=c.sha,
                created_at=md.parse_time(c.date),
                current=(c is newest),
                created_by=c.author,
            )
            for c in reversed(commits)
        )
        details = {
            "file": manifest.file,
            "document": manifest.index + 1,
            "namespace": manifest.namespace,
            "scope": manifest.scope,
            "keys": list(manifest.keys),
            "certificate": cert.fingerprint if cert else "",
            "certificate_status": sealed_certs.status_of(cert),
            "certificate_known_by": known_by,
            "certificate_not_after": cert.not_after.isoformat() if cert else "",
            "key_bits": self.key_bits(manifest),
            "labels": manifest.labels,
        }
        if newest:
            details |= {"commit": newest.sha, "author": newest.author, "committed_at": newest.date}
        all_problems = problems + manifest.problems + cert_problems
        if all_problems:
            details["problems"] = all_problems
        return RemoteSecret(
            backend=self.name,
            path=manifest.path,
            name=manifest.name,
            kind=md.kind_of(metadata),
            created_at=versions[0].created_at if versions else None,
            updated_at=versions[-1].created_at if versions else None,
            last_rotated=versions[-1].created_at if versions else None,
            metadata=metadata,
            tags=tags,
            versions=versions,
            details=details,
        )

    @staticmethod
    def key_bits(manifest: Manifest) -> int:
        sizes = set()
        for text in manifest.encrypted.values():
            try:
                sizes.add(sealing.wrapped_key_bits(text))
            except sealing.SealingError:
                pass
        return sizes.pop() if len(sizes) == 1 else 0

    def certificate_of(self, manifest: Manifest):
        """(certificate or None, how it was told, problems) for one manifest."""
        try:
            known = sealed_certs.certificates()
        except BackendError as exc:
            return None, "", [f"sealing certificates unreadable: {exc}"]
        values = list(manifest.encrypted.values())
        for cert in known:
            if (
                cert.private_key
                and values
                and all(sealing.opens_with(text, cert.private_key, manifest.label) for text in values)
            ):
                return cert, "private key", []
        bits = self.key_bits(manifest)
        noted = manifest.annotations.get(SEALED_WITH, "")
        if noted:
            cert = sealed_certs.by_fingerprint(noted)
            if cert is None:
                return None, "", [f"sealed for an unknown certificate {noted}"]
            if bits and bits != cert.key_bits:
                return (
                    None,
                    "",
                    [f"noted as sealed with {noted}, but its values were sealed for a {bits}-bit key"],
                )
            return cert, "annotation", []
        if known and bits and not any(cert.key_bits == bits for cert in known):
            return (
                None,
                "",
                [f"sealed for an unknown certificate (a {bits}-bit key; none configured has that size)"],
            )
        return None, "", []

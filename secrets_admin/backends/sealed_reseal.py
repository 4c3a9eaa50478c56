"""Re-sealing a SealedSecret in its clone: new values, sealed for the newest certificate, committed
on a branch named for the rotation run, checked, then fast-forwarded onto the target branch.

Every write is keyed by the run token: the commit message carries `candlefish-run=<token>`, so a
step re-run after a crash finds its commit instead of making a second one. Commits are built with
git's plumbing (a private index file, `commit-tree`, `update-ref` with the expected old value),
never in the working tree, so a person's uncommitted edits are never touched and a branch that
moved under us is refused, not overwritten. New values exist only in this process's memory
between generating and sealing them; what is written is ciphertext.
"""

import copy
import os
import tempfile

import yaml

from secrets_admin.backends import passwords, sealed_certs, sealing
from secrets_admin.backends.base import BackendError
from secrets_admin.backends.sealed_manifests import SEALED_WITH, parse, replace_document

ZERO = "0" * 40
AUTHOR = {"GIT_AUTHOR_NAME": "Candlefish Console", "GIT_AUTHOR_EMAIL": "console@candlefish.invalid"}


def run_branch(token: str) -> str:
    return f"candlefish/reseal-{token[:12]}"


def marker(token: str) -> str:
    return f"candlefish-run={token}"


def _error(backend, text: str, reason: str, permanent: bool = True) -> BackendError:
    return BackendError(text, permanent=permanent, backend=backend.name, reason=reason)


def _identity() -> dict:
    return {
        **AUTHOR,
        "GIT_COMMITTER_NAME": AUTHOR["GIT_AUTHOR_NAME"],
        "GIT_COMMITTER_EMAIL": AUTHOR["GIT_AUTHOR_EMAIL"],
    }


def _split(path: str) -> str:
    file, sep, _ = path.partition("#")
    if not sep or not file or ".." in file.split("/") or file.startswith("/"):
        raise BackendError(f"{path!r} is not a manifest path", permanent=True, reason="not a path")
    return file


def _find(backend, text: str, file: str, path: str):
    manifests, problems = parse(file, text)
    for manifest in manifests:
        if manifest.path == path:
            return manifest
    why = "; ".join(problems) or "no such SealedSecret in the file"
    raise _error(backend, f"{path}: not found ({why})", "not found")


def run_commit(backend, token: str) -> str | None:
    """The commit this run made on its branch, if it made one."""
    return backend.repo.commit_with_subject(run_branch(token), marker(token))


def seal_on_branch(backend, path: str, *, kind: str, token: str, title: str) -> dict:
    """Make the run's commit (once): every key of the manifest gets a new value of `kind`, sealed
    for the newest certificate with the manifest's scope. Returns JSON facts (branch, commit, base,
    certificate, keys). Raises BackendError in words (no certificate, not found, branch taken)."""
    repo, branch, file = backend.repo, run_branch(token), _split(path)
    done = run_commit(backend, token)
    if done:
        return _facts(backend, token, done)
    cert = sealed_certs.newest()
    if cert is None:
        raise _error(
            backend, "no valid sealing certificate is configured (SEALED_CERTIFICATES)", "no certificate"
        )
    base = repo.head(backend.branch)
    if base is None:
        raise _error(backend, f"branch {backend.branch} does not exist", "not found")
    text = repo.run("show", f"{base}:{file}", doing=f"read {file}")
    manifest = _find(backend, text, file, path)
    doc = copy.deepcopy(list(yaml.safe_load_all(text))[manifest.index])
    label = manifest.label
    encrypted = {}
    for key in manifest.keys:
        value = passwords.generate(kind, backend=backend.name)
        encrypted[key] = sealing.seal(value.encode(), cert.public_key, label)
        del value  # the new value lives on only inside the ciphertext
    doc["spec"]["encryptedData"] = encrypted
    doc.setdefault("metadata", {}).setdefault("annotations", {})[SEALED_WITH] = cert.fingerprint
    new_text = replace_document(text, manifest.index, doc)
    message = (
        f"{title}\n\nRe-sealed for {cert.fingerprint}; keys: {', '.join(manifest.keys)}.\n{marker(token)}\n"
    )
    commit = commit_file(backend, base, file, new_text, message)
    repo.run("update-ref", f"refs/heads/{branch}", commit, ZERO, doing=f"create branch {branch}")
    return _facts(backend, token, commit)


def commit_file(backend, parent: str, file: str, text: str, message: str) -> str:
    """A commit on top of `parent` whose only change is `file` := `text`; returns its id. Built
    in a private index: the clone's working tree and index stay as they are."""
    repo = backend.repo
    blob = repo.run(
        "hash-object", "-w", "--stdin", "--path", file, input=text, doing="store the manifest"
    ).strip()
    with tempfile.TemporaryDirectory() as folder:
        env = {"GIT_INDEX_FILE": os.path.join(folder, "index")}
        repo.run("read-tree", parent, doing="read the tree", env=env)
        repo.run("update-index", "--add", "--cacheinfo", f"100644,{blob},{file}", doing="stage", env=env)
        tree = repo.run("write-tree", doing="write the tree", env=env).strip()
    return repo.run("commit-tree", tree, "-p", parent, input=message, doing="commit", env=_identity()).strip()


def _facts(backend, token: str, commit: str) -> dict:
    parent = backend.repo.run("rev-parse", f"{commit}^", doing="read the parent").strip()
    return {"branch": run_branch(token), "commit": commit, "base": parent}


def check_commit(backend, path: str, commit: str) -> dict:
    """Prove the run's commit holds a well-formed SealedSecret for the newest certificate; with a
    private key configured (demo, tests), that every value unseals under the manifest's scope.
    Returns facts ({"checked": "decrypted"|"schema", "certificate": ...}); BackendError if not."""
    file = _split(path)
    text = backend.repo.run("show", f"{commit}:{file}", doing=f"read {file} at the run's commit")
    manifest = _find(backend, text, file, path)
    if manifest.problems:
        raise _error(backend, f"{path}: {'; '.join(manifest.problems)}", "refused input")
    cert = sealed_certs.by_fingerprint(manifest.annotations.get(SEALED_WITH, ""))
    newest = sealed_certs.newest()
    if cert is None or newest is None or cert.fingerprint != newest.fingerprint:
        raise _error(backend, f"{path} is not sealed for the newest certificate", "wrong certificate")
    for key, text in manifest.encrypted.items():
        if sealing.wrapped_key_bits(text) != cert.key_bits:
            raise _error(
                backend, f"{path}: value {key!r} was not sealed for {cert.fingerprint}", "wrong certificate"
            )
    if cert.private_key is None:
        return {"checked": "schema", "certificate": cert.fingerprint}
    for key, text in manifest.encrypted.items():
        try:
            sealing.unseal(text, cert.private_key, manifest.label)  # the value is dropped at once
        except sealing.SealingError:
            raise _error(
                backend, f"{path}: value {key!r} does not unseal with the private key", "does not unseal"
            ) from None
    return {"checked": "decrypted", "certificate": cert.fingerprint}


def fast_forward(backend, path: str, *, token: str, title: str) -> str:
    """Move the target branch to the run's commit (fast-forward only) and push it when a remote is
    configured; returns the commit now at the target. Idempotent. If the target moved on without
    touching this manifest, the run's change is re-applied on top of it first; if the manifest
    changed there too, the branches diverged (permanent: a person decides)."""
    repo, target, file = backend.repo, backend.branch, _split(path)
    commit = run_commit(backend, token)
    if commit is None:
        raise _error(backend, f"run branch {run_branch(token)} has no commit for this run", "not found")
    head = repo.head(target)
    if head is None:
        raise _error(backend, f"branch {target} does not exist", "not found")
    if not repo.is_ancestor(commit, head):
        if not repo.is_ancestor(head, commit):
            base = repo.run("rev-parse", f"{commit}^", doing="read the base").strip()
            if repo.run("diff", "--name-only", base, head, "--", file, doing="compare").strip():
                raise _error(backend, f"{file} changed on {target} since the re-seal began", "diverged")
            text = repo.run("show", f"{commit}:{file}", doing="read the re-sealed manifest")
            message = repo.run("log", "-1", "--format=%B", commit, doing="read the message")
            rebuilt = commit_file(backend, head, file, text, message)
            repo.run(
                "update-ref", f"refs/heads/{run_branch(token)}", rebuilt, commit, doing="move the run branch"
            )
            commit = rebuilt
        _move(backend, target, head, commit)
    if backend.remote:
        repo.push(backend.remote, f"refs/heads/{target}:refs/heads/{target}")
    return repo.head(target)


def _move(backend, target: str, head: str, commit: str) -> None:
    repo = backend.repo
    with repo.exclusive(f"fast-forward {target}"):
        _move_locked(repo, backend, target, head, commit)


def _move_locked(repo, backend, target: str, head: str, commit: str) -> None:
    if repo.head(target) != head:
        raise _error(backend, f"{target} moved on while fast-forwarding; retry", "busy", False)
    if repo.current_branch() == target:
        dirty = repo.dirty_files()
        if dirty:
            raise _error(
                backend, f"uncommitted changes in the clone ({', '.join(dirty[:5])})", "dirty", False
            )
        try:
            repo.run("merge", "--ff-only", "--quiet", commit, doing=f"fast-forward {target}")
        except BackendError as exc:
            if exc.reason != "diverged":
                raise
            # We checked `commit` descends from `head`: the branch moved on since (another run
            # landed first). A retry reads it afresh and re-applies our change on top.
            raise _error(backend, f"{target} moved on while fast-forwarding; retry", "busy", False) from None
    else:
        repo.run("update-ref", f"refs/heads/{target}", commit, head, doing=f"fast-forward {target}")


def publish(backend, token: str) -> bool:
    """Push the run branch when a remote is configured (reviewers and CI see it); False when the
    clone has no remote. Idempotent."""
    if not backend.remote:
        return False
    branch = run_branch(token)
    backend.repo.push(backend.remote, f"refs/heads/{branch}:refs/heads/{branch}")
    return True

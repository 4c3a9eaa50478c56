"""The Sealed Secrets part of `make run`: a demo controller key pair (an old certificate and the
current one) and a small git repository of SealedSecrets sealed for them, under .run/sealed/.

Runs in the supervisor before Django starts (no settings needed) and returns the environment
that configures the console for it. Made once: an existing repository is left as it is (a demo
re-seal committed there survives a restart).
"""

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from secrets_admin.backends import sealing
from secrets_admin.backends.git import Repository
from secrets_admin.backends.sealed_certs import load_certificate
from secrets_admin.backends.sealed_manifests import PREFIX, document
from secrets_admin.sealed.keys import make_controller_key

BACKEND = "gitops"
IDENTITY = {"GIT_AUTHOR_NAME": "Demo Operator", "GIT_AUTHOR_EMAIL": "demo@candlefish.invalid"}
IDENTITY |= {"GIT_COMMITTER_NAME": "Demo Operator", "GIT_COMMITTER_EMAIL": "demo@candlefish.invalid"}
# (file, name, namespace, scope, certificate, keys, console metadata)
MANIFESTS = [
    ("apps/payments.yaml", "stripe-api", "payments", "strict", "old", ("api-key",),
     {"owner": "payments", "environment": "production", "kind": "api_key", "purpose": "card processing"}),
    ("apps/payments.yaml", "payments-db", "payments", "namespace-wide", "current", ("password",),
     {"owner": "payments", "environment": "production", "kind": "password"}),
    ("apps/web.yaml", "web-session", "web", "strict", "current", ("secret-key",),
     {"owner": "web", "environment": "staging", "kind": "api_key"}),
    ("platform/registry.yaml", "registry-pull", "", "cluster-wide", "old", ("token",),
     {"owner": "platform", "environment": "production", "kind": "api_key"}),
]  # fmt: skip
BROKEN = (
    "legacy/notes.yaml",
    "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {name: [oops\n",
)


def _keys(folder: Path) -> dict:
    now = datetime.now(UTC)
    periods = {"old": (400, 3250), "current": (20, 3630)}
    keys = {}
    for stem, (age, left) in periods.items():
        cert, key = folder / f"{stem}.crt", folder / f"{stem}.key"
        if not (cert.exists() and key.exists()):
            made = make_controller_key(
                folder, stem, not_before=now - timedelta(days=age), not_after=now + timedelta(days=left)
            )
            cert, key = made.certificate, made.private_key
        keys[stem] = (cert, key)
    return keys


def _seed_repository(path: Path, keys: dict) -> None:
    path.mkdir(parents=True, exist_ok=True)
    repo = Repository(path, backend=BACKEND)
    repo.run("init", "--quiet", "--initial-branch=main", doing="create the demo repository")
    certs = {stem: load_certificate(str(cert))[0] for stem, (cert, _) in keys.items()}
    files: dict[str, list] = {}
    for file, name, namespace, scope, cert, key_names, meta in MANIFESTS:
        label = sealing.label_for(scope, namespace, name)
        encrypted = {
            k: sealing.seal(os.urandom(24).hex().encode(), certs[cert].public_key, label) for k in key_names
        }
        annotations = {PREFIX + k: v for k, v in meta.items()}
        doc = document(
            name=name, namespace=namespace, scope=scope, encrypted=encrypted, annotations=annotations
        )
        files.setdefault(file, []).append(doc)
    files["apps/payments.yaml"].insert(
        0,
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "payments", "namespace": "payments"},
        },
    )
    for file, docs in files.items():
        target = path / file
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(yaml.safe_dump_all(docs, sort_keys=False))
        repo.run("add", "--", file, doing="stage")
        repo.run("commit", "--quiet", "-m", f"Add {file}", doing="commit", env=IDENTITY)
    (path / BROKEN[0]).parent.mkdir(parents=True, exist_ok=True)
    (path / BROKEN[0]).write_text(BROKEN[1])
    repo.run("add", "--", BROKEN[0], doing="stage")
    repo.run(
        "commit",
        "--quiet",
        "-m",
        "Half-finished manifest (malformed on purpose)",
        doing="commit",
        env=IDENTITY,
    )


def prepare(folder, existing_backends: str = "") -> dict:
    """Make the keys and repository under `folder` (once); return the environment variables that
    point the console at them (SECRET_BACKENDS merged with `existing_backends`, if any)."""
    folder = Path(folder)
    keys = _keys(folder / "keys")
    repo = folder / "repo"
    if not (repo / ".git").exists():
        _seed_repository(repo, keys)
    backends = json.loads(existing_backends) if existing_backends else {}
    backends.setdefault(BACKEND, {"kind": "sealed", "path": str(repo), "branch": "main"})
    return {
        "SECRET_BACKENDS": json.dumps(backends),
        "SEALED_CERTIFICATES": ",".join(str(cert) for cert, _ in keys.values()),
        "SEALED_PRIVATE_KEYS": ",".join(str(key) for _, key in keys.values()),
    }

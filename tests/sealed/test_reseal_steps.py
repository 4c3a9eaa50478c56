"""The re-seal steps against a real clone (and a bare "remote"), run directly: one commit per run
token however often a step runs, the new ciphertext opens with the private key, values nowhere."""

import logging
import uuid
from types import SimpleNamespace

import pytest
import yaml

from secrets_admin.backends import passwords, sealing
from secrets_admin.backends.base import BackendError
from secrets_admin.backends.sealed import SealedBackend
from secrets_admin.backends.sealed_manifests import SEALED_WITH, parse
from secrets_admin.sealed.rotation import ResealSteps
from tests.sealed.conftest import git

STEPS = ResealSteps()


@pytest.fixture
def generated(monkeypatch):
    """Every value the console generates in this test (so the test can look for it everywhere)."""
    made, real = [], passwords.generate

    def generate(kind, *, backend=""):
        made.append(real(kind, backend=backend))
        return made[-1]

    monkeypatch.setattr(passwords, "generate", generate)
    return made


def context(backend, path, *, kind="password", token=None):
    secret = SimpleNamespace(name=path.rsplit("/", 1)[-1], path=path, kind=kind, backend=backend.name)
    run = SimpleNamespace(pk=7, reason="campaign")
    return SimpleNamespace(run=run, secret=secret, backend=backend, token=token or uuid.uuid4().hex, state={})


def all_steps(ctx):
    for step in ("create", "set", "test", "finish"):
        getattr(STEPS, step)(ctx)


def test_a_reseal_commits_new_ciphertext_that_opens_to_the_new_values(
    clone, sealing_configured, generated, caplog
):
    caplog.set_level(logging.DEBUG)
    path = clone.add(
        "apps/db.yaml", "db", "billing", values={"password": "old-pw", "extra": "old-x"}, cert="old"
    )
    backend = SealedBackend("gitops", {"kind": "sealed", "path": str(clone.path), "branch": "main"})
    ctx = context(backend, path)
    all_steps(ctx)
    head = git(clone.path, "rev-parse", "main").strip()
    assert ctx.state["new_version_id"] == head and ctx.state["checked"] == "decrypted"
    message = git(clone.path, "log", "-1", "--format=%B", "main")
    assert f"candlefish-run={ctx.token}" in message and "rotation run 7" in message
    text = git(clone.path, "show", "main:apps/db.yaml")
    (manifest,), _ = parse("apps/db.yaml", text)
    current = sealing_configured["current"]
    assert manifest.annotations[SEALED_WITH] == current.fingerprint
    opened = {
        k: sealing.unseal(v, current.private_key, b"billing/db").decode()
        for k, v in manifest.encrypted.items()
    }
    assert sorted(opened.values()) == sorted(generated) and len(generated) == 2
    everywhere = message + repr(ctx.state) + caplog.text + git(clone.path, "log", "--all", "--format=%B")
    assert not any(value in everywhere for value in generated)
    assert (clone.path / "apps/db.yaml").read_text() == text, "the clone on main was fast-forwarded"


def test_every_step_run_twice_makes_one_commit(clone, sealing_configured, generated):
    path = clone.add("a.yaml", "a", values={"v": "1"}, cert="old")
    backend = SealedBackend("gitops", {"kind": "sealed", "path": str(clone.path)})
    ctx = context(backend, path)
    for step in ("create", "create", "set", "set", "test", "test", "finish", "finish"):
        getattr(STEPS, step)(ctx)
    assert git(clone.path, "rev-list", "--count", "main").strip() == "2"
    assert len(generated) == 1, "the second create found the run's commit and sealed nothing"


def test_a_person_editing_the_clone_is_never_overwritten(clone, sealing_configured, generated):
    path = clone.add("a.yaml", "a", values={"v": "1"})
    (clone.path / "notes.yaml").write_text("# work in progress\n")
    (clone.path / "a.yaml").write_text((clone.path / "a.yaml").read_text() + "# edited\n")
    backend = SealedBackend("gitops", {"kind": "sealed", "path": str(clone.path)})
    ctx = context(backend, path)
    STEPS.create(ctx)
    STEPS.test(ctx)
    with pytest.raises(BackendError) as caught:
        STEPS.finish(ctx)
    assert caught.value.reason == "dirty" and not caught.value.permanent
    assert (clone.path / "a.yaml").read_text().endswith("# edited\n")
    assert git(clone.path, "rev-list", "--count", "main").strip() == "1"


def test_a_target_that_moved_elsewhere_takes_the_change_on_top(clone, sealing_configured, generated):
    path = clone.add("a.yaml", "a", values={"v": "1"})
    backend = SealedBackend("gitops", {"kind": "sealed", "path": str(clone.path)})
    ctx = context(backend, path)
    STEPS.create(ctx)
    clone.add("b.yaml", "b", values={"v": "2"})  # someone else's commit lands first
    STEPS.test(ctx)
    STEPS.finish(ctx)
    assert git(clone.path, "rev-list", "--count", "main").strip() == "3"
    assert "b.yaml" in git(clone.path, "ls-tree", "--name-only", "main")
    assert f"candlefish-run={ctx.token}" in git(clone.path, "log", "-1", "--format=%B", "main")


def test_the_same_manifest_changed_on_the_target_is_a_divergence_for_a_person(
    clone, sealing_configured, generated
):
    path = clone.add("a.yaml", "a", values={"v": "1"})
    backend = SealedBackend("gitops", {"kind": "sealed", "path": str(clone.path)})
    ctx = context(backend, path)
    STEPS.create(ctx)
    clone.add("a.yaml", "a", values={"v": "by hand"})
    before = git(clone.path, "rev-parse", "main")
    with pytest.raises(BackendError) as caught:
        STEPS.finish(ctx)
    assert caught.value.reason == "diverged" and caught.value.permanent
    assert git(clone.path, "rev-parse", "main") == before


def test_with_a_remote_the_run_branch_and_the_target_are_pushed(
    clone, tmp_path, sealing_configured, generated
):
    path = clone.add("a.yaml", "a", values={"v": "1"})
    upstream = tmp_path / "upstream.git"
    git(tmp_path, "clone", "--quiet", "--bare", str(clone.path), str(upstream))
    git(clone.path, "remote", "add", "origin", str(upstream))
    backend = SealedBackend(
        "gitops", {"kind": "sealed", "path": str(clone.path), "remote": "origin", "branch": "main"}
    )
    ctx = context(backend, path)
    all_steps(ctx)
    assert ctx.state["published"] is True
    assert git(upstream, "rev-parse", "main") == git(clone.path, "rev-parse", "main")
    assert git(upstream, "rev-parse", ctx.state["branch"]).strip()


def test_a_refused_push_is_permanent_and_says_so(clone, tmp_path, sealing_configured, generated):
    path = clone.add("a.yaml", "a", values={"v": "1"})
    upstream = tmp_path / "upstream.git"
    git(tmp_path, "clone", "--quiet", "--bare", str(clone.path), str(upstream))
    hook = upstream / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'protected branch' >&2\nexit 1\n")
    hook.chmod(0o755)
    git(clone.path, "remote", "add", "origin", str(upstream))
    backend = SealedBackend(
        "gitops", {"kind": "sealed", "path": str(clone.path), "remote": "origin", "branch": "main"}
    )
    ctx = context(backend, path)
    STEPS.create(ctx)
    with pytest.raises(BackendError) as caught:
        STEPS.set(ctx)
    assert caught.value.permanent and caught.value.reason == "push refused"


def test_without_a_private_key_the_test_step_checks_schema_and_certificate(
    clone, settings, sealing_configured, generated
):
    path = clone.add("a.yaml", "a", values={"v": "1"})
    settings.SEALED_PRIVATE_KEYS = []
    backend = SealedBackend("gitops", {"kind": "sealed", "path": str(clone.path)})
    ctx = context(backend, path)
    STEPS.create(ctx)
    STEPS.test(ctx)
    assert ctx.state["checked"] == "schema"


def test_what_cannot_be_resealed_says_why(settings, clone, sealing_configured):
    secret = SimpleNamespace(backend="vault", kind="password")
    assert "not kept as a SealedSecret" in STEPS.applies_to(secret)
    settings.SECRET_BACKENDS = {
        **settings.SECRET_BACKENDS,
        "gitops": {"kind": "sealed", "path": str(clone.path)},
    }
    assert "cannot generate a certificate" in STEPS.applies_to(
        SimpleNamespace(backend="gitops", kind="certificate")
    )
    assert STEPS.applies_to(SimpleNamespace(backend="gitops", kind="password")) is None
    settings.SEALED_CERTIFICATES = []
    assert "no valid sealing certificate" in STEPS.applies_to(
        SimpleNamespace(backend="gitops", kind="password")
    )


def test_a_multi_document_file_keeps_its_other_documents(clone, sealing_configured, generated):
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"a": "b"}}
    docs = [
        config,
        clone.sealed("db", "apps", values={"p": "1"}),
        clone.sealed("other", "apps", values={"q": "2"}),
    ]
    clone.write("multi.yaml", yaml.safe_dump_all(docs))
    backend = SealedBackend("gitops", {"kind": "sealed", "path": str(clone.path)})
    ctx = context(backend, "multi.yaml#apps/db")
    all_steps(ctx)
    after = list(yaml.safe_load_all((clone.path / "multi.yaml").read_text()))
    assert after[0] == docs[0] and after[2] == docs[2]
    assert after[1]["spec"]["encryptedData"]["p"] != docs[1]["spec"]["encryptedData"]["p"]


def test_a_locked_clone_or_a_branch_moved_under_us_is_worth_a_retry(clone, sealing_configured, generated):
    path = clone.add("a.yaml", "a", values={"v": "1"})
    backend = SealedBackend("gitops", {"kind": "sealed", "path": str(clone.path)})
    ctx = context(backend, path)
    STEPS.create(ctx)
    lock = clone.path / ".git" / "index.lock"
    lock.write_text("")  # another git process is at work in the clone
    with pytest.raises(BackendError) as caught:
        STEPS.finish(ctx)
    assert caught.value.reason == "busy" and not caught.value.permanent
    lock.unlink()
    STEPS.finish(ctx)  # the retry goes through
    assert f"candlefish-run={ctx.token}" in git(clone.path, "log", "-1", "--format=%B", "main")


@pytest.mark.parametrize("checked_out", [True, False], ids=["target-checked-out", "target-not-checked-out"])
def test_runs_finishing_at_once_in_one_clone_each_land_once(
    clone, sealing_configured, generated, checked_out
):
    """Eight runs for eight manifests race to move main (checked out: `merge --ff-only` in the
    working tree; not: `update-ref` with the expected old value): one wins at a time, the losers
    get a temporary error and, retried as the engine would, land on top."""
    import threading

    paths = [clone.add(f"m{n}.yaml", f"m{n}", values={"v": "1"}) for n in range(8)]
    backend = SealedBackend("gitops", {"kind": "sealed", "path": str(clone.path), "branch": "main"})
    if not checked_out:
        git(clone.path, "checkout", "--quiet", "--detach")  # update-ref races instead of merge
    contexts = [context(backend, path) for path in paths]
    for ctx in contexts:
        STEPS.create(ctx)
    barrier, errors, retries = threading.Barrier(len(contexts)), [], []

    def finish(ctx):
        barrier.wait()
        for _ in range(50):
            try:
                STEPS.finish(ctx)
                return
            except BackendError as exc:
                if exc.permanent:
                    errors.append(exc)
                    return
                retries.append(exc.reason)
        errors.append("gave up")

    threads = [threading.Thread(target=finish, args=(ctx,)) for ctx in contexts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [], (retries[-20:], git(clone.path, "status", "--porcelain"))
    log = git(clone.path, "log", "--format=%B", "main")
    assert all(log.count(f"candlefish-run={ctx.token}") == 1 for ctx in contexts)
    assert git(clone.path, "rev-list", "--count", "main").strip() == str(8 + 8)

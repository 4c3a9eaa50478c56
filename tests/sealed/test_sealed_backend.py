"""What only the Sealed Secrets adapter does: manifests in YAML files, scopes, certificates, Git."""

import logging

import pytest
import yaml

from secrets_admin.backends import sealed_certs, sealing
from secrets_admin.backends.base import ListingProblem
from secrets_admin.backends.sealed import TREE, SealedBackend
from secrets_admin.backends.sealed_manifests import SEALED_WITH
from tests.backends.contract import walk
from tests.sealed.conftest import AUTHOR, git


def backend_for(clone, **extra):
    return SealedBackend("gitops", {"kind": "sealed", "path": str(clone.path), **extra})


def test_every_sealedsecret_of_a_multi_document_file_is_found_with_scope_and_keys(clone):
    docs = [
        clone.sealed("db", "payments", values={"username": "u1", "password": "p1"}),
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}},
        clone.sealed("shared", "payments", values={"token": "t1"}, scope="namespace-wide"),
        clone.sealed("global", "", values={"key": "k1"}, scope="cluster-wide"),
    ]
    clone.write("apps/payments.yaml", yaml.safe_dump_all(docs), "payments manifests")
    found, problems = walk(backend_for(clone))
    assert problems == []
    assert set(found) == {
        "apps/payments.yaml#payments/db",
        "apps/payments.yaml#payments/shared",
        "apps/payments.yaml#global",
    }
    db = found["apps/payments.yaml#payments/db"]
    assert (db.name, db.details["namespace"], db.details["scope"]) == ("db", "payments", "strict")
    assert db.details["keys"] == ["password", "username"]
    assert found["apps/payments.yaml#payments/shared"].details["scope"] == "namespace-wide"
    assert found["apps/payments.yaml#global"].details["scope"] == "cluster-wide"
    assert db.details["document"] == 1 and found["apps/payments.yaml#global"].details["document"] == 4


def test_the_last_change_names_its_commit_author_and_date(clone):
    path = clone.add("a.yaml", "a", values={"v": "1"})
    clone.add("a.yaml", "a", values={"v": "2"})
    secret = backend_for(clone).describe(path)
    head = git(clone.path, "rev-parse", "HEAD").strip()
    assert secret.details["commit"] == head and secret.details["author"] == AUTHOR[0]
    assert [v.version_id for v in secret.versions][-1] == head and len(secret.versions) == 2
    assert secret.last_rotated == secret.versions[-1].created_at


@pytest.mark.parametrize(
    "text, words",
    [
        ("a: [unclosed\n", "malformed YAML at line"),
        ("- just\n- a list\n", "not a Kubernetes object"),
        (
            "apiVersion: bitnami.com/v1beta9\nkind: SealedSecret\nmetadata: {name: x}\n",
            "apiVersion 'bitnami.com/v1beta9'",
        ),
        (
            "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {name: x}\nspec: {}\n",
            "no spec.encryptedData",
        ),
    ],
    ids=["malformed", "not-an-object", "other-api-version", "no-data"],
)
def test_bad_files_are_listing_problems_by_file_and_the_walk_goes_on(clone, text, words):
    good = clone.add("a-good.yaml", "good", values={"v": "1"})
    clone.write("b-bad.yaml", text)
    last = clone.add("c-last.yaml", "last", values={"v": "1"})
    found, problems = walk(backend_for(clone))
    assert set(found) == {good, last}
    assert [p.path for p in problems] == ["b-bad.yaml"]
    assert problems[0].error.permanent and words in str(problems[0].error)


def test_a_file_that_vanishes_mid_walk_is_a_problem_for_that_file(clone):
    first = clone.add("m/1.yaml", "one", values={"v": "1"})
    clone.add("m/2.yaml", "two", values={"v": "1"})
    last = clone.add("m/3.yaml", "three", values={"v": "1"})
    seen = []
    for item in backend_for(clone).iter_secrets():
        seen.append(item)
        if getattr(item, "path", "") == first:
            (clone.path / "m/2.yaml").unlink()
    problems = [i for i in seen if isinstance(i, ListingProblem) and i.path != TREE]
    assert [p.path for p in problems] == ["m/2.yaml"] and "not found" in str(problems[0].error)
    assert last in [i.path for i in seen]


def test_the_certificate_is_told_by_private_key_and_its_status_by_age(clone, sealing_configured):
    old = clone.add("old.yaml", "legacy", values={"v": "1"}, cert="old")
    new = clone.add("new.yaml", "fresh", values={"v": "1"}, cert="current", scope="namespace-wide")
    found, _ = walk(backend_for(clone))
    assert found[old].details["certificate"] == sealing_configured["old"].fingerprint
    assert found[old].details["certificate_status"] == "old"
    assert found[old].details["certificate_known_by"] == "private key"
    assert found[new].details["certificate"] == sealing_configured["current"].fingerprint
    assert found[new].details["certificate_status"] == "current"


def test_without_private_keys_the_annotation_tells_and_an_unknown_one_is_reported(
    clone, settings, sealing_configured
):
    settings.SEALED_PRIVATE_KEYS = []
    current = sealing_configured["current"].fingerprint
    noted = clone.add("noted.yaml", "noted", values={"v": "1"}, annotations={SEALED_WITH: current})
    stranger = clone.add(
        "stranger.yaml", "stranger", values={"v": "1"}, annotations={SEALED_WITH: "SHA256:nobody"}
    )
    silent = clone.add("silent.yaml", "silent", values={"v": "1"})
    found, problems = walk(backend_for(clone))
    assert problems == []
    assert (
        found[noted].details["certificate"] == current
        and found[noted].details["certificate_known_by"] == "annotation"
    )
    assert found[stranger].details["certificate_status"] == "unknown"
    assert "unknown certificate SHA256:nobody" in found[stranger].details["problems"][0]
    assert (
        found[silent].details["certificate_status"] == "unknown" and "problems" not in found[silent].details
    )


def test_a_key_size_no_configured_certificate_has_is_an_unknown_certificate(clone, tmp_path, settings):
    from datetime import UTC, datetime, timedelta

    from secrets_admin.sealed.keys import make_controller_key

    now = datetime.now(UTC)
    big = make_controller_key(tmp_path, "big", not_before=now, not_after=now + timedelta(days=9), bits=3072)
    clone.certs["big"] = sealed_certs.load_certificate(str(big.certificate))[0]
    path = clone.add("big.yaml", "big", values={"v": "1"}, cert="big")
    secret = backend_for(clone).describe(path)
    assert secret.details["key_bits"] == 3072 and secret.details["certificate_status"] == "unknown"
    assert "3072-bit key" in secret.details["problems"][0]


def test_an_expiring_certificate_is_reported_as_such(clone, tmp_path, settings, sealing_configured):
    from datetime import UTC, datetime, timedelta

    from secrets_admin.sealed.keys import make_controller_key

    now = datetime.now(UTC)
    soon = make_controller_key(tmp_path, "soon", not_before=now, not_after=now + timedelta(days=5))
    settings.SEALED_CERTIFICATES = [*settings.SEALED_CERTIFICATES, str(soon.certificate)]
    settings.SEALED_PRIVATE_KEYS = [*settings.SEALED_PRIVATE_KEYS, str(soon.private_key)]
    clone.certs["soon"] = sealed_certs.load_certificate(str(soon.certificate))[0]
    path = clone.add("soon.yaml", "soon", values={"v": "1"}, cert="soon")
    assert backend_for(clone).describe(path).details["certificate_status"] == "expiring"
    assert sealed_certs.newest().fingerprint == clone.certs["soon"].fingerprint


def test_uncommitted_changes_are_reported_and_nothing_is_overwritten(clone):
    path = clone.add("a.yaml", "a", values={"v": "1"})
    (clone.path / "a.yaml").write_text((clone.path / "a.yaml").read_text() + "# a person is editing\n")
    found, problems = walk(backend_for(clone))
    assert path in found and [p.path for p in problems] == [TREE]
    assert problems[0].error.reason == "dirty" and "a.yaml" in str(problems[0].error)
    assert (clone.path / "a.yaml").read_text().endswith("# a person is editing\n")


def test_with_a_remote_a_clean_clone_is_fast_forwarded_and_a_diverged_one_is_left_alone(clone, tmp_path):
    upstream = tmp_path / "upstream.git"
    git(tmp_path, "clone", "--quiet", "--bare", str(clone.path), str(upstream))
    work = tmp_path / "work"
    git(tmp_path, "clone", "--quiet", str(upstream), str(work))
    backend = SealedBackend(
        "gitops", {"kind": "sealed", "path": str(work), "remote": "origin", "branch": "main"}
    )
    path = clone.add("late.yaml", "late", values={"v": "1"})
    git(clone.path, "push", "--quiet", str(upstream), "main")
    found, problems = walk(backend)
    assert path in found and problems == []
    assert git(work, "rev-parse", "HEAD") == git(clone.path, "rev-parse", "HEAD")
    # Both sides move on: the clone's own commit is kept, and the walk says so.
    clone.add("upstream.yaml", "up", values={"v": "1"})
    git(clone.path, "push", "--quiet", str(upstream), "main")
    (work / "local.yaml").write_text("# local\n")
    git(work, "add", "local.yaml")
    git(work, "commit", "--quiet", "-m", "local")
    local_head = git(work, "rev-parse", "HEAD")
    found, problems = walk(backend)
    assert [p.error.reason for p in problems] == ["diverged"]
    assert git(work, "rev-parse", "HEAD") == local_head


def test_values_never_reach_the_records_or_the_logs(clone, caplog):
    caplog.set_level(logging.DEBUG)
    clone.add("canary.yaml", "canary", values={"a": "canary-value-4242", "b": "canary-value-4343"})
    found, _ = walk(backend_for(clone))
    text = repr(found) + caplog.text
    assert found and "canary-value-4242" not in text and "canary-value-4343" not in text


def test_a_path_that_is_no_clone_stops_the_walk_permanently(tmp_path):
    backend = SealedBackend("gitops", {"kind": "sealed", "path": str(tmp_path)})
    with pytest.raises(Exception) as caught:
        list(backend.iter_secrets())
    assert caught.value.permanent and "not a git clone" in str(caught.value)


def test_scope_labels_follow_the_annotations():
    assert sealing.label_for("strict", "ns", "n") == b"ns/n"
    assert sealing.label_for("namespace-wide", "ns", "n") == b"ns"
    assert sealing.label_for("cluster-wide", "ns", "n") == b""
    assert sealing.scope_of({sealing.CLUSTER_WIDE: "true", sealing.NAMESPACE_WIDE: "true"}) == "cluster-wide"
    assert sealing.scope_of({sealing.NAMESPACE_WIDE: "true"}) == "namespace-wide"
    assert sealing.scope_of({sealing.NAMESPACE_WIDE: "false"}) == "strict"

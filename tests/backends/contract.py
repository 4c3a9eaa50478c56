"""Behaviour every secret backend adapter shares, written once and run against each real server.

The cases come in mixins, so a backend joins every one that applies: `WalkContract` (all),
`VanishContract`, `PermissionContract`, `MetadataWriteContract`, `CreateContract`.
`BackendContract` is all of them (OpenBao and AWS); Sealed Secrets joins `WalkContract` only
(README "Sealed Secrets" says why).

A subclass provides these fixtures (see test_vault_contract.py, test_aws_contract.py):
- `backend`: the adapter, limited to this test's own secrets (KV prefix / AWS name prefix).
- `make_secret(name, metadata=None, versions=1) -> (path, [values])`: writes through the SDK.
- `new_path(name)`: a path that does not exist yet, in the form create_secret takes.
- `read_value(path)` / `raw_metadata(path)`: the server's state, read with the SDK directly.
- `delete_secret(path)`: removes a secret at once (it vanishes mid-walk).
- `down_backend`: the same adapter pointed at a port nobody listens on.
- `denied_backend`: credentials that may not list anything.
- `partly_denied -> (backend, readable_paths, denied_paths)`: listing works, some items fail.
"""

import logging
import string

import pytest

from secrets_admin.backends.base import BackendError, ListingProblem, RemoteSecret

META = {"owner": "payments", "purpose": "card processing", "environment": "production", "kind": "api_key"}


def walk(backend) -> tuple[dict[str, RemoteSecret], list[ListingProblem]]:
    items = list(backend.iter_secrets())
    found = {item.path: item for item in items if isinstance(item, RemoteSecret)}
    problems = [item for item in items if isinstance(item, ListingProblem)]
    assert len(found) + len(problems) == len(items), "iter_secrets yields only RemoteSecret or ListingProblem"
    return found, problems


class WalkContract:
    """What every backend does: walk, describe, report what it cannot read, never carry a value."""

    # --- walking -------------------------------------------------------------------------
    def test_the_walk_finds_created_secrets_with_metadata_and_versions(self, backend, make_secret):
        rich, _ = make_secret("payments/stripe-key", metadata={**META, "cost-center": "cc-42"}, versions=3)
        plain, _ = make_secret("plain")
        found, problems = walk(backend)
        assert problems == []
        assert set(found) == {rich, plain}
        secret = found[rich]
        assert secret.backend == backend.name
        assert secret.name.endswith("stripe-key")
        assert secret.kind == "api_key"
        assert secret.metadata == META
        assert secret.tags == {"cost-center": "cc-42"}
        assert secret.created_at is not None and secret.last_rotated is not None
        assert len(secret.versions) == 3
        assert [v.current for v in secret.versions].count(True) == 1
        assert secret.versions[-1].current, "versions come oldest first; the newest is current"
        assert all(v.created_at for v in secret.versions)
        assert found[plain].metadata == {} and found[plain].kind == "generic"

    def test_nested_names_are_walked_depth_first_and_completely(self, backend, make_secret):
        paths = {make_secret(name)[0] for name in ("a/b/c/one", "a/b/two", "a/three", "four", "z/y/five")}
        found, problems = walk(backend)
        assert problems == [] and set(found) == paths

    def test_describe_returns_what_the_walk_returned(self, backend, make_secret):
        path, _ = make_secret("identity/okta", metadata=META, versions=2)
        found, _ = walk(backend)
        walked, described = self.comparable(found[path]), self.comparable(backend.describe(path))
        differs = {f: (getattr(walked, f), getattr(described, f)) for f in RemoteSecret.__dataclass_fields__}
        assert {f: pair for f, pair in differs.items() if pair[0] != pair[1]} == {}

    # --- errors --------------------------------------------------------------------------
    def test_describing_a_missing_path_is_a_permanent_error(self, backend, new_path):
        with pytest.raises(BackendError) as caught:
            backend.describe(new_path("nothing-here"))
        assert caught.value.permanent and "not found" in str(caught.value)

    def test_an_unreachable_backend_is_a_temporary_error(self, down_backend):
        with pytest.raises(BackendError) as caught:
            list(down_backend.iter_secrets())
        assert not caught.value.permanent
        assert "unreachable" in str(caught.value)
        with pytest.raises(BackendError) as caught:
            down_backend.ping()
        assert not caught.value.permanent

    def test_malformed_metadata_already_in_the_backend_is_reported_not_fatal(self, backend, make_secret):
        path, _ = make_secret("odd", metadata={"owner": "data", "environment": "prod", "kind": "ssh-key"})
        found, problems = walk(backend)
        assert problems == []
        secret = found[path]
        assert secret.metadata["environment"] == "prod" and secret.kind == "generic"
        assert any("environment 'prod'" in text for text in secret.details["problems"])
        assert any("kind 'ssh-key'" in text for text in secret.details["problems"])

    def test_the_walk_never_carries_a_value(self, backend, make_secret, caplog):
        caplog.set_level(logging.DEBUG)
        _, values = make_secret("canary", metadata=META, versions=2)
        found, _ = walk(backend)
        text = repr(found) + caplog.text
        assert found and not any(value in text for value in values)

    def one_at_a_time(self, backend):
        """The backend reading one item at a time (a concurrent walk may read ahead of us)."""
        return backend

    def comparable(self, secret: RemoteSecret) -> RemoteSecret:
        """What two reads of an unchanged secret agree on (all of it, unless a server says otherwise)."""
        return secret

    def creatable(self, path: str) -> str:
        """The form create_secret takes for an existing secret's path (AWS: its name)."""
        return path


class VanishContract:
    """A secret deleted between the listing and its read is a ListingProblem for that path."""

    vanished_is_not_found = True  # the server answers "not found" for a secret deleted mid-walk

    def test_a_secret_that_vanishes_mid_walk_is_a_listing_problem_and_the_walk_goes_on(
        self, backend, make_secret, delete_secret
    ):
        first, _ = make_secret("m/1-first")
        gone, _ = make_secret("m/2-gone")
        last, _ = make_secret("m/3-last")
        seen = []
        for item in self.one_at_a_time(backend).iter_secrets():
            seen.append(item)
            if getattr(item, "path", None) == first:
                delete_secret(gone)
        problems = [item for item in seen if isinstance(item, ListingProblem)]
        assert [p.path for p in problems] == [gone]
        if self.vanished_is_not_found:
            assert problems[0].error.permanent and "not found" in str(problems[0].error)
        assert last in [item.path for item in seen if isinstance(item, RemoteSecret)]


class PermissionContract:
    """Backends with credentials: denied is permanent, and a partly denied walk goes on."""

    def test_credentials_without_permission_are_a_permanent_error(self, denied_backend):
        with pytest.raises(BackendError) as caught:
            list(denied_backend.iter_secrets())
        assert caught.value.permanent
        assert "permission denied" in str(caught.value)

    def test_items_we_may_not_read_are_listing_problems_and_the_rest_is_walked(self, partly_denied):
        backend, readable, denied = partly_denied
        found, problems = walk(backend)
        assert set(found) == set(readable)
        assert {problem.path for problem in problems} == set(denied)
        for problem in problems:
            assert problem.backend == backend.name
            assert problem.error.permanent and "permission denied" in str(problem.error)


class MetadataWriteContract:
    """Backends whose metadata the console writes (KV custom_metadata, AWS tags)."""

    # --- metadata write-back -------------------------------------------------------------
    def test_write_metadata_merges_and_keeps_every_other_key(self, backend, make_secret, raw_metadata):
        path, _ = make_secret("merge", metadata={**META, "cost-center": "cc-1"})
        backend.write_metadata(path, {"owner": "identity", "environment": "staging"})
        assert raw_metadata(path) == {
            **META,
            "owner": "identity",
            "environment": "staging",
            "cost-center": "cc-1",
        }
        described = backend.describe(path)
        assert described.metadata["owner"] == "identity" and described.tags == {"cost-center": "cc-1"}

    def test_an_empty_value_removes_that_key_only(self, backend, make_secret, raw_metadata):
        path, _ = make_secret("remove", metadata=META)
        backend.write_metadata(path, {"purpose": ""})
        assert raw_metadata(path) == {key: value for key, value in META.items() if key != "purpose"}

    @pytest.mark.parametrize(
        "bad",
        [{"environment": "prod"}, {"kind": "ssh-key"}, {"owner": "x" * 600}, {}, {"owner": 7}],
        ids=["environment", "kind", "too-long", "empty", "not-a-string"],
    )
    def test_malformed_metadata_is_refused_and_nothing_changes(self, backend, make_secret, raw_metadata, bad):
        path, _ = make_secret("malformed", metadata=META)
        with pytest.raises(BackendError) as caught:
            backend.write_metadata(path, bad)
        assert caught.value.permanent
        assert raw_metadata(path) == META

    def test_write_metadata_to_a_missing_path_is_permanent_and_creates_nothing(self, backend, new_path):
        path = new_path("not-there")
        with pytest.raises(BackendError) as caught:
            backend.write_metadata(path, {"owner": "payments"})
        assert caught.value.permanent
        found, _ = walk(backend)
        assert found == {}


class CreateContract:
    """Backends in which the console creates secrets with a generated value."""

    # --- creating secrets ----------------------------------------------------------------
    def test_create_secret_stores_a_generated_value_it_never_shows(
        self, backend, new_path, read_value, raw_metadata, caplog
    ):
        caplog.set_level(logging.DEBUG)
        created = backend.create_secret(new_path("new/api"), kind="api_key", metadata={"owner": "platform"})
        value = read_value(created.path)
        assert len(value) >= 32
        assert raw_metadata(created.path) == {"owner": "platform", "kind": "api_key"}
        assert created.kind == "api_key" and len(created.versions) == 1 and created.versions[0].current
        for text in (repr(created), str(created.__dict__), caplog.text):
            assert value not in text
        assert "new/api" in caplog.text, "creation is logged (without the value)"

    def test_passwords_are_long_and_use_every_character_class(self, backend, new_path, read_value):
        created = backend.create_secret(new_path("new/db"), kind="password", metadata={})
        value = read_value(created.path)
        assert len(value) >= 32
        for group in (string.ascii_lowercase, string.ascii_uppercase, string.digits):
            assert any(ch in group for ch in value)
        assert any(ch in string.punctuation for ch in value)
        assert not any(ch in "'\"\\ `$" for ch in value), "safe in shells, URLs and SQL literals"

    def test_create_secret_refuses_an_existing_path_and_keeps_its_value(
        self, backend, make_secret, read_value
    ):
        path, values = make_secret("taken", metadata=META)
        with pytest.raises(BackendError) as caught:
            backend.create_secret(self.creatable(path), kind="password", metadata={"owner": "data"})
        assert caught.value.permanent and "already exists" in str(caught.value)
        assert read_value(path) == values[-1]
        assert backend.describe(path).metadata == META

    def test_create_secret_refuses_kinds_it_cannot_generate(self, backend, new_path):
        for kind in ("certificate", "database", "nonsense"):
            with pytest.raises(BackendError) as caught:
                backend.create_secret(new_path(f"new/{kind}"), kind=kind, metadata={})
            assert caught.value.permanent
        found, _ = walk(backend)
        assert found == {}


class BackendContract(
    WalkContract, VanishContract, PermissionContract, MetadataWriteContract, CreateContract
):
    """Every case: the contract OpenBao (KV v2) and AWS Secrets Manager pass whole."""

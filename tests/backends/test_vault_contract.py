"""The adapter contract against the real OpenBao, plus what only OpenBao's KV v2 has."""

import uuid

import hvac
import pytest

from console.stack.servers import free_port
from secrets_admin.backends.base import BackendError
from secrets_admin.backends.vault import VaultBackend
from tests.backends.contract import META, BackendContract, walk


def vault_config(openbao, **extra) -> dict:
    from django.conf import settings

    return {**settings.SECRET_BACKENDS["vault"], "url": openbao.url, "token": openbao.token, **extra}


def token_with_policy(root: hvac.Client, rules: str) -> str:
    name = f"test-{uuid.uuid4().hex[:8]}"
    root.sys.create_or_update_policy(name, rules)
    return root.auth.token.create(policies=[name], ttl="10m")["auth"]["client_token"]


class TestVaultContract(BackendContract):
    @pytest.fixture
    def root(self, openbao):
        return hvac.Client(url=openbao.url, token=openbao.token)

    @pytest.fixture
    def backend(self, openbao, kv_prefix):
        return VaultBackend("vault-test", vault_config(openbao, kv_prefix=kv_prefix, engines="kv"))

    @pytest.fixture
    def make_secret(self, root, kv_prefix):
        def make(name, metadata=None, versions=1):
            key, values = f"{kv_prefix}/{name}", []
            for _ in range(versions):
                values.append(f"canary-{uuid.uuid4().hex}")
                root.secrets.kv.v2.create_or_update_secret(
                    key, secret={"value": values[-1]}, mount_point="secret"
                )
            if metadata:
                root.secrets.kv.v2.update_metadata(key, custom_metadata=metadata, mount_point="secret")
            return f"secret/{key}", values

        return make

    @pytest.fixture
    def new_path(self, kv_prefix):
        return lambda name: f"secret/{kv_prefix}/{name}"

    @pytest.fixture
    def read_value(self, root):
        def read(path):
            key = path.removeprefix("secret/")
            return root.secrets.kv.v2.read_secret_version(
                key, mount_point="secret", raise_on_deleted_version=True
            )["data"]["data"]["value"]

        return read

    @pytest.fixture
    def raw_metadata(self, root):
        def read(path):
            key = path.removeprefix("secret/")
            return (
                root.secrets.kv.v2.read_secret_metadata(key, mount_point="secret")["data"]["custom_metadata"]
                or {}
            )

        return read

    @pytest.fixture
    def delete_secret(self, root):
        return lambda path: root.secrets.kv.v2.delete_metadata_and_all_versions(
            path.removeprefix("secret/"), mount_point="secret"
        )

    @pytest.fixture
    def down_backend(self, openbao, kv_prefix):
        return VaultBackend(
            "vault-down", vault_config(openbao, url=f"http://127.0.0.1:{free_port()}", timeout=2)
        )

    @pytest.fixture
    def denied_backend(self, openbao, root, kv_prefix):
        token = token_with_policy(root, 'path "sys/health" { capabilities = ["read"] }')
        return VaultBackend(
            "vault-denied", vault_config(openbao, token=token, kv_prefix=kv_prefix, engines="kv")
        )

    @pytest.fixture
    def partly_denied(self, openbao, root, kv_prefix, make_secret):
        readable = [make_secret("open/one")[0], make_secret("open/two")[0]]
        denied = [make_secret("open/forbidden")[0]]
        make_secret("locked/inside")
        token = token_with_policy(
            root,
            f'path "secret/metadata/{kv_prefix}/*" {{ capabilities = ["list", "read"] }}\n'
            f'path "secret/metadata/{kv_prefix}/open/forbidden" {{ capabilities = ["deny"] }}\n'
            f'path "secret/metadata/{kv_prefix}/locked/" {{ capabilities = ["deny"] }}\n',
        )
        backend = VaultBackend(
            "vault-partly", vault_config(openbao, token=token, kv_prefix=kv_prefix, engines="kv")
        )
        # A folder we may not list is a problem too; its path ends in "/" (nothing under it was seen).
        return backend, readable, denied + [f"secret/{kv_prefix}/locked/"]

    def one_at_a_time(self, backend):
        return VaultBackend(backend.name, {**backend.config, "workers": 1})

    # --- KV v2 only ----------------------------------------------------------------------
    def test_a_concurrent_walk_yields_the_same_items_in_the_same_order(self, openbao, kv_prefix, make_secret):
        for n in range(40):
            make_secret(f"team{n % 3}/{'deep/' * (n % 2)}s{n:02}", metadata={"owner": f"team{n % 3}"})
        config = vault_config(openbao, kv_prefix=kv_prefix, engines="kv")
        one = list(VaultBackend("v", {**config, "workers": 1}).iter_secrets())
        many = list(VaultBackend("v", {**config, "workers": 8}).iter_secrets())
        assert len(one) == 40 and one == many
        assert [item.path for item in one][:2] == [
            f"secret/{kv_prefix}/team0/s00",
            f"secret/{kv_prefix}/team0/s06",
        ]

    def test_keys_with_spaces_and_unicode_round_trip(self, backend, make_secret, raw_metadata):
        path, _ = make_secret("odd folder/key with spaces+plus é", metadata=META)
        found, problems = walk(backend)
        assert problems == [] and list(found) == [path]
        backend.write_metadata(path, {"owner": "data"})
        assert (
            raw_metadata(path)["owner"] == "data" and backend.describe(path).name == "key with spaces+plus é"
        )

    def test_soft_deleted_and_destroyed_versions_are_flagged(self, backend, root, make_secret, kv_prefix):
        path, _ = make_secret("lineage", versions=4)
        key = f"{kv_prefix}/lineage"
        root.secrets.kv.v2.delete_secret_versions(key, versions=[1], mount_point="secret")
        root.secrets.kv.v2.destroy_secret_versions(key, versions=[2], mount_point="secret")
        versions = {v.version_id: v for v in backend.describe(path).versions}
        assert versions["1"].deprecated and not versions["1"].destroyed
        assert versions["2"].destroyed
        assert versions["4"].current and not versions["3"].current
        assert backend.describe(path).details["current_version"] == 4

    def test_the_run_that_wrote_the_current_version_is_its_creator(self, backend, make_secret):
        path, _ = make_secret("rotated", metadata={**META, "candlefish-run": "run-17"}, versions=2)
        versions = backend.describe(path).versions
        assert [v.created_by for v in versions] == ["", "run-17"]

    def test_create_secret_writes_version_one_with_check_and_set(self, backend, new_path, root, kv_prefix):
        created = backend.create_secret(new_path("fresh"), kind="api_key", metadata=META)
        raw = root.secrets.kv.v2.read_secret_metadata(f"{kv_prefix}/fresh", mount_point="secret")["data"]
        assert raw["current_version"] == 1 and created.path == f"secret/{kv_prefix}/fresh"

    def test_create_secret_refuses_a_key_that_has_only_metadata(self, backend, new_path, root, kv_prefix):
        root.secrets.kv.v2.update_metadata(
            f"{kv_prefix}/reserved", custom_metadata=META, mount_point="secret"
        )
        with pytest.raises(BackendError, match="already exists") as caught:
            backend.create_secret(new_path("reserved"), kind="api_key", metadata={})
        assert caught.value.permanent
        raw = root.secrets.kv.v2.read_secret_metadata(f"{kv_prefix}/reserved", mount_point="secret")["data"]
        assert raw["current_version"] == 0

    def test_paths_outside_the_kv_mount_are_refused_for_writes(self, backend):
        for path in ("pki/cert/00:11", "database/roles/app", "elsewhere/thing"):
            with pytest.raises(BackendError) as caught:
                backend.write_metadata(path, {"owner": "x"})
            assert caught.value.permanent
            assert not backend.writable_metadata(path)

    def test_a_missing_kv_mount_stops_the_walk(self, openbao):
        backend = VaultBackend("vault-nomount", vault_config(openbao, kv_mount="no-such-mount", engines="kv"))
        with pytest.raises(BackendError, match="not found") as caught:
            list(backend.iter_secrets())
        assert caught.value.permanent

    def test_an_empty_prefix_is_an_empty_walk(self, openbao, kv_prefix):
        backend = VaultBackend("vault-empty", vault_config(openbao, kv_prefix=kv_prefix, engines="kv"))
        assert list(backend.iter_secrets()) == []

"""The adapter contract against a real git clone of SealedSecret manifests.

Sealed Secrets joins WalkContract only: metadata changes through a pull request and secrets are
created by committing a manifest (write_metadata / create_secret refuse, tested below); a local
clone has no credentials to deny; a file that vanishes mid-walk is reported by its file path
(test_sealed_backend.py), not by a secret's path.
"""

import uuid

import pytest

from console.stack.servers import free_port
from secrets_admin.backends.base import BackendError
from secrets_admin.backends.sealed import SealedBackend
from tests.backends.contract import META, WalkContract, walk
from tests.sealed.conftest import git


class TestSealedContract(WalkContract):
    @pytest.fixture
    def backend(self, clone):
        return SealedBackend("sealed-test", {"kind": "sealed", "path": str(clone.path)})

    @pytest.fixture
    def make_secret(self, clone):
        def make(name, metadata=None, versions=1):
            values = []
            for _ in range(versions):
                values.append(f"canary-{uuid.uuid4().hex}")
                path = clone.add(
                    f"{name}.yaml", name.rsplit("/", 1)[-1], values={"value": values[-1]}, metadata=metadata
                )
            return path, values

        return make

    @pytest.fixture
    def new_path(self):
        return lambda name: f"{name}.yaml#apps/{name.rsplit('/', 1)[-1]}"

    @pytest.fixture
    def down_backend(self, clone, tmp_path):
        clone.write("seed.yaml", "# nothing yet\n")
        git(clone.path, "remote", "add", "origin", f"http://127.0.0.1:{free_port()}/gitops.git")
        return SealedBackend(
            "sealed-down", {"kind": "sealed", "path": str(clone.path), "remote": "origin", "timeout": 10}
        )


def test_write_metadata_and_create_secret_are_refused_and_change_nothing(clone):
    path = clone.add("a.yaml", "a", values={"value": "v"}, metadata=META)
    backend = SealedBackend("sealed-test", {"kind": "sealed", "path": str(clone.path)})
    before = git(clone.path, "rev-parse", "HEAD")
    for call in (
        lambda: backend.write_metadata(path, {"owner": "data"}),
        lambda: backend.create_secret("b.yaml#apps/b", kind="api_key", metadata={}),
    ):
        with pytest.raises(BackendError) as caught:
            call()
        assert caught.value.permanent
    assert git(clone.path, "rev-parse", "HEAD") == before and git(clone.path, "status", "--porcelain") == ""
    assert walk(backend)[0][path].metadata == META

"""System checks for misconfigured sealed backends (stable ids)."""

from secrets_admin.backends import sealed_certs
from secrets_admin.sealed.checks import check_sealed_backends
from tests.sealed.conftest import git


def ids(settings):
    sealed_certs._cache.clear()
    return sorted(e.id for e in check_sealed_backends())


def test_a_good_configuration_passes(settings, sealed_backend):
    assert ids(settings) == []


def test_a_path_that_is_no_clone_is_an_error(settings, tmp_path, sealing_configured):
    settings.SECRET_BACKENDS = {"gitops": {"kind": "sealed", "path": str(tmp_path)}, "x": {"kind": "sealed"}}
    assert ids(settings) == ["sealed.E001", "sealed.E001"]


def test_an_unreadable_certificate_is_an_error(settings, sealed_backend, tmp_path):
    (tmp_path / "not.pem").write_text("hello")
    settings.SEALED_CERTIFICATES = [str(tmp_path / "not.pem")]
    assert ids(settings) == ["sealed.E002"]
    settings.SEALED_CERTIFICATES = [str(tmp_path / "absent.pem")]
    assert ids(settings) == ["sealed.E002"]


def test_no_certificate_at_all_is_a_warning(settings, sealed_backend):
    settings.SEALED_CERTIFICATES, settings.SEALED_PRIVATE_KEYS = [], []
    assert ids(settings) == ["sealed.W003"]


def test_a_remote_the_clone_lacks_is_an_error(settings, sealed_backend):
    conf = settings.SECRET_BACKENDS["gitops"]
    settings.SECRET_BACKENDS = {**settings.SECRET_BACKENDS, "gitops": {**conf, "remote": "upstream"}}
    assert ids(settings) == ["sealed.E004"]
    git(sealed_backend.path, "remote", "add", "upstream", "https://git.example.com/gitops.git")
    assert ids(settings) == []

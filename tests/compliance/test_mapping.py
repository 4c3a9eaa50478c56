"""The framework mapping is data: the repository's file loads, and a bad file is a clear error
naming the place of the mistake."""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from secrets_admin.compliance import mapping
from secrets_admin.compliance.checks import mapping_loads

GOOD = """
version: 1
frameworks:
  - id: soc2
    name: SOC 2
    controls:
      - id: CC6.1
        title: Access
        measures: [mfa_privileged]
"""


def test_the_repositorys_mapping_covers_five_frameworks_and_every_measure():
    loaded = mapping.load()
    assert [f.id for f in loaded.frameworks] == ["soc2", "iso27001", "gdpr", "hipaa", "pci-dss"]
    used = {m for f in loaded.frameworks for c in f.controls for m in c.measures}
    assert used == set(mapping.MEASURES)
    for framework in loaded.frameworks:
        assert all(c.description and c.title for c in framework.controls)
        assert len({c.slug for c in framework.controls}) == len(framework.controls)
    hipaa = loaded.framework("hipaa")
    assert hipaa.control("164-312-a-2-ii").id == "164.312(a)(2)(ii)"
    assert loaded.parameters["key_expiry"] == {"critical_days": 7, "warn_days": 30}


def test_defaults_fill_parameters_the_file_leaves_out():
    loaded = mapping.parse(GOOD)
    assert loaded.parameters["rotation_within_policy"]["partial_at"] == 0.95
    assert loaded.parameters["mfa_privileged"]["groups"] == ["security-team", "cto"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            GOOD.replace("[mfa_privileged]", "[mfa]"),
            "frameworks[0] (soc2) > controls[0] (CC6.1) > measures[0]: unknown measure 'mfa'",
        ),
        (GOOD.replace("version: 1", "version: 2"), "frameworks.yaml > version: must be 1"),
        (GOOD.replace("id: soc2", "id: SOC 2"), "frameworks[0] > id: 'SOC 2' must be lower case"),
        (GOOD.replace("        title: Access\n", ""), "controls[0]: missing title"),
        (GOOD + "    extra: 1\n", "frameworks[0]: unknown key(s) extra"),
        (GOOD.replace("controls:", "controls: []\n    x:"), "unknown key(s) x"),
        ("version: 1\nframeworks: [\n", "frameworks.yaml: line 3, column 1: not valid YAML"),
        (
            GOOD + "measures:\n  key_expiry: {critical_days: 0}\n",
            "measures > key_expiry > critical_days: must be a whole number of days",
        ),
        (
            GOOD + "measures:\n  rotation_within_policy: {partial_at: 2}\n",
            "partial_at: must be a number from 0 to 1 (found 2.0)",
        ),
        (GOOD + "measures:\n  nonsense: {}\n", "measures: unknown measure(s) nonsense"),
        (
            GOOD.replace("controls:", "controls:\n      - {id: CC6.1, title: Again, measures: [key_expiry]}"),
            "control 'CC6.1' repeats",
        ),
    ],
)
def test_a_bad_file_names_the_place(text, message):
    with pytest.raises(mapping.MappingError) as caught:
        mapping.parse(text)
    assert message in str(caught.value)


def test_a_bad_file_fails_the_system_check(tmp_path, monkeypatch):
    bad = tmp_path / "frameworks.yaml"
    bad.write_text(GOOD.replace("[mfa_privileged]", "[mfa]"))
    monkeypatch.setattr(mapping, "DEFAULT_PATH", bad)
    (error,) = mapping_loads()
    assert error.id == "compliance.E001" and "unknown measure 'mfa'" in error.msg
    with pytest.raises(SystemCheckError, match="compliance.E001"):
        call_command("check")
    monkeypatch.setattr(mapping, "DEFAULT_PATH", tmp_path / "missing.yaml")
    assert "cannot be read" in mapping_loads()[0].msg

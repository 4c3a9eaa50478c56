"""Settings from the environment: malformed values and unsafe production settings are refused
with stable check ids, in a fresh interpreter (settings are read once per process)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
SAFE_PRODUCTION = {
    "CONSOLE_ENV": "production",
    "DEBUG": "false",
    "SECRET_KEY": "k" * 20 + "-a-long-random-production-secret-key-0123456789",
    "MFA_REQUIRED": "true",
    "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "ALLOWED_HOSTS": "console.example.com",
    "VAULT_TOKEN": "x",
    "DATABASE_URL": "postgres://u:p@127.0.0.1:5432/candlefish",
}


def run(code: str, **env) -> subprocess.CompletedProcess:
    skip = {*SAFE_PRODUCTION, "REDIS_URL", "VAULT_ADDR", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    base = {k: v for k, v in os.environ.items() if k not in skip}
    command = [sys.executable, "-c", code]
    return subprocess.run(command, cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=60)


CHECK_IDS = """
import django, json
django.setup()
from django.core import checks
found = checks.run_checks(include_deployment_checks=True)
print(json.dumps(sorted(m.id for m in found if m.level >= checks.WARNING)))
"""


def check_ids(**env) -> list[str]:
    result = run(CHECK_IDS, DJANGO_SETTINGS_MODULE="console.settings", **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "override, check_id",
    [
        ({"DEBUG": "true"}, "console.E010"),
        ({"SECRET_KEY": ""}, "console.E011"),
        ({"MFA_REQUIRED": "false"}, "console.E012"),
        ({"FIELD_ENCRYPTION_KEYS": ""}, "console.E013"),
        ({"ALLOWED_HOSTS": ""}, "console.E014"),
    ],
)
def test_production_refuses_each_unsafe_setting(override, check_id):
    assert check_id in check_ids(**{**SAFE_PRODUCTION, **override})


def test_safe_production_settings_pass_the_deploy_check_at_warning_level():
    result = run(
        "import sys; from django.core.management import execute_from_command_line;"
        "execute_from_command_line(['manage.py', 'check', '--deploy', '--fail-level', 'WARNING'])",
        DJANGO_SETTINGS_MODULE="console.settings",
        **SAFE_PRODUCTION,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_web_app_refuses_to_load_in_production_with_debug_on():
    result = run("import console.asgi", **{**SAFE_PRODUCTION, "DEBUG": "true"})
    assert result.returncode != 0
    assert "console.E010" in result.stderr and "Refusing to start" in result.stderr


@pytest.mark.parametrize(
    "variable, value, expected",
    [
        ("DEBUG", "maybe", "true or false"),
        ("CONSOLE_ENV", "live", "development | staging | production"),
        ("DATABASE_URL", "mysql:/nowhere", "postgres://host:port"),
        ("REDIS_URL", "localhost:6379", "redis://host:port"),
        ("VAULT_TIMEOUT", "soon", "a whole number"),
        ("SECRET_BACKENDS", "{not json", "a JSON object"),
    ],
)
def test_a_malformed_variable_is_named_with_its_expected_form(variable, value, expected):
    result = run(
        "import django; django.setup(); from django.core import checks;"
        "[print(m.id, m.msg, m.hint) for m in checks.run_checks() if m.id == 'console.E001']",
        DJANGO_SETTINGS_MODULE="console.settings",
        **{variable: value},
    )
    assert result.returncode == 0, result.stderr
    assert f"console.E001 {variable} is malformed" in result.stdout
    assert expected in result.stdout
    assert value not in result.stdout  # values may be secrets: never echoed


def test_vault_without_credentials_is_an_error_outside_development():
    ids = check_ids(**{**SAFE_PRODUCTION, "VAULT_TOKEN": ""})
    assert "console.E002" in ids


def test_secrets_can_come_from_files_named_by_name_file(tmp_path):
    files = {
        "SECRET_KEY": "f" * 60,
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode() + "," + Fernet.generate_key().decode(),
        "DATABASE_URL": "postgres://console:from-a-file@db.internal:5432/candlefish",
        "REDIS_URL": "redis://:from-a-file@redis.internal:6379/2",
        "VAULT_SECRET_ID": "secret-id-from-a-file",
    }
    env = {k: v for k, v in SAFE_PRODUCTION.items() if k not in files}
    for name, value in files.items():
        (tmp_path / name).write_text(value + "\n")  # editors and `echo` add a newline: trimmed
        env[f"{name}_FILE"] = str(tmp_path / name)
    result = run(
        "import django, json; django.setup(); from django.conf import settings as s;"
        "print(json.dumps([s.SECRET_KEY, s.FIELD_ENCRYPTION_KEYS, s.DATABASES['default']['HOST'],"
        " s.DATABASES['default']['PASSWORD'], s.REDIS_URL, s.SECRET_BACKENDS['vault']['secret_id']]))",
        DJANGO_SETTINGS_MODULE="console.settings",
        **env,
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values == [
        files["SECRET_KEY"],
        files["FIELD_ENCRYPTION_KEYS"].split(","),
        "db.internal",
        "from-a-file",
        files["REDIS_URL"],
        files["VAULT_SECRET_ID"],
    ]


def test_an_unreadable_secret_file_is_named_and_its_variable_falls_back_to_the_default(tmp_path):
    missing = tmp_path / "nowhere"
    ids = check_ids(**{**SAFE_PRODUCTION, "SECRET_KEY": "", "SECRET_KEY_FILE": str(missing)})
    assert "console.E001" in ids and "console.E011" in ids
    result = run(
        "import django; django.setup(); from django.core import checks;"
        "[print(m.msg, m.hint) for m in checks.run_checks() if m.id == 'console.E001']",
        DJANGO_SETTINGS_MODULE="console.settings",
        DATABASE_URL_FILE=str(missing),
    )
    assert "DATABASE_URL_FILE is malformed" in result.stdout and "a readable file" in result.stdout


def test_the_web_app_loads_when_every_backend_is_down():
    # Nothing listens on these: the app must still load (then /readyz names what is down).
    from console.stack.servers import free_port

    down = {
        "VAULT_ADDR": f"http://127.0.0.1:{free_port()}",
        "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
        "DATABASE_URL": f"postgres://nobody@127.0.0.1:{free_port()}/nothing",
    }
    result = run("import console.asgi; print('loaded')", **{**SAFE_PRODUCTION, **down})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("loaded")

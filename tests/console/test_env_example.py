""".env.example stays in sync with console/settings/: every variable settings reads is listed
(with its NAME_FILE form when it may come from a Docker secret), and nothing stale is listed."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READER = re.compile(
    r"\b(env|envbool|envsecret|envint|envlist|envurl|envchoice|envdecimal)\(\s*\"([A-Z][A-Z0-9_]*)\""
)
# A listed line: `NAME=...` or `#NAME=...` at the start of a line.
LISTED = re.compile(r"^#?([A-Z][A-Z0-9_]*)=", re.MULTILINE)
# Listed for people, read by something other than the settings.
NOT_SETTINGS = {"PORT"}


def read_by_settings() -> dict[str, bool]:
    """{variable: may come from NAME_FILE} for every reader call in the settings' modules."""
    source = "\n".join(path.read_text() for path in sorted((ROOT / "console" / "settings").glob("*.py")))
    found: dict[str, bool] = {}
    for match in READER.finditer(source):
        reader, name = match.groups()
        call = source[match.start() : source.find("\n", match.end())]
        from_file = reader == "envsecret" or "secret=True" in call
        found[name] = found.get(name, False) or from_file
    return found


def listed() -> set[str]:
    return set(LISTED.findall((ROOT / ".env.example").read_text()))


def test_settings_reads_the_variables_we_expect_to_find():
    # Guards the parser itself: if this breaks, the sync test below would pass vacuously.
    names = read_by_settings()
    assert {"CONSOLE_ENV", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "VAULT_ADDR", "AWS_REGION"} <= set(
        names
    )
    assert names["SECRET_KEY"] and names["DATABASE_URL"] and not names["CONSOLE_ENV"]


def test_every_variable_settings_reads_is_in_env_example():
    missing = sorted(set(read_by_settings()) - listed())
    assert not missing, f"add these to .env.example with a comment: {missing}"


def test_every_secret_variable_also_shows_its_file_form():
    missing = sorted(f"{name}_FILE" for name, from_file in read_by_settings().items() if from_file)
    missing = [name for name in missing if name not in listed()]
    assert not missing, f"add these to .env.example: {missing}"


def test_env_example_lists_nothing_settings_does_not_read():
    known = set(read_by_settings())
    known |= {f"{name}_FILE" for name, from_file in read_by_settings().items() if from_file}
    stale = sorted(listed() - known - NOT_SETTINGS)
    assert not stale, f"remove these from .env.example or read them in console/settings/: {stale}"


def test_every_listed_variable_is_explained_by_a_comment_above_it():
    lines = (ROOT / ".env.example").read_text().splitlines()
    for index, line in enumerate(lines):
        if LISTED.match(line):
            above = [text for text in lines[max(0, index - 6) : index] if text.startswith("# ")]
            assert above, f"{line.split('=')[0]} has no explanation above it"

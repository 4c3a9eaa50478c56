"""Skip markers for parts a machine may lack. Every reason starts with 'MISSING:' and .ci/run
fails when any test is skipped that way, so CI never passes by skipping."""

import os
import shutil

import pytest


def needs(part: str, present: bool):
    reason = f"MISSING: {part} (CI installs it; nothing is skipped there)"
    return pytest.mark.skipif(not present, reason=reason)


requires_postgres = needs(
    "PostgreSQL: set DATABASE_URL=postgres://... (races are only real there)",
    os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")),
)
requires_chromium = needs("Debian's chromium: apt-get install chromium", bool(shutil.which("chromium")))


# How DESIGN.md says to start Debian's chromium here: headless, and without the background
# connections this machine's closed network refuses.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def launch_chromium(playwright):
    """Debian's chromium through Playwright (Playwright cannot download its own browser here)."""
    return playwright.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)

"""The git CLI, wrapped once: every git call of the console goes through `Repository.run`.

No shell (argument lists only), a time limit on every call, no prompts (a remote that wants a
password fails at once instead of waiting on a terminal), and every failure becomes a
`BackendError` whose reason names the cause in words ("unreachable", "not found", "refused",
"diverged", "dirty", "busy", "timed out", "not a repository"). Git's own text is kept in the message for
logs; it never holds a secret value because only ciphertext is ever written to a repository.
"""

import fcntl
import os
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from secrets_admin.backends.base import BackendError

# Git's words for "the other side could not be reached" (transport errors are worth a retry).
_UNREACHABLE = (
    "could not resolve host",
    "failed to connect",
    "connection refused",
    "connection timed out",
    "could not read from remote repository",
    "unable to access",
    "couldn't connect",
    "does not appear to be a git repository",
)
_REFUSED = (
    "[rejected]",
    "[remote rejected]",
    "failed to push",
    "non-fast-forward",
    "pre-receive hook declined",
)
_DENIED = ("permission denied", "authentication failed", "403", "access denied")


@dataclass(frozen=True)
class Commit:
    sha: str
    author: str
    email: str
    date: str  # strict ISO 8601, as git prints it
    subject: str


class Repository:
    """A local clone at `path`. `backend` names the connection in errors."""

    def __init__(self, path, *, backend: str = "", timeout: float = 30):
        self.path = Path(path)
        self.backend = backend
        self.timeout = timeout

    def run(self, *args: str, doing: str, input: str | None = None, check: bool = True, env=None) -> str:
        """Run `git <args>` in the clone; return stdout. Raise BackendError on failure (when
        `check`) or timeout."""
        done = self._call(args, doing, input, env)
        if check and done.returncode != 0:
            raise self.classified(doing, " ".join((done.stderr or done.stdout).split()))
        return done.stdout

    def succeeds(self, *args: str, doing: str) -> bool:
        """Whether `git <args>` exits 0 (for yes/no questions such as merge-base --is-ancestor)."""
        return self._call(args, doing, None, None).returncode == 0

    def _call(self, args, doing: str, input: str | None, extra: dict | None) -> subprocess.CompletedProcess:
        env = {
            **os.environ,
            "GIT_TERMINAL_PROMPT": "0",  # never wait for a password on a terminal nobody watches
            "GIT_ASKPASS": "true",
            "SSH_ASKPASS": "true",
            "GIT_SSH_COMMAND": "ssh -o BatchMode=yes -o ConnectTimeout=10",
            "LC_ALL": "C",  # git's messages in English: the reasons below match on them
            **(extra or {}),
        }
        if not self.path.is_dir():
            raise self.error(doing, f"{self.path} does not exist", reason="not found", permanent=True)
        try:
            done = subprocess.run(
                ["git", "-C", str(self.path), *args],
                capture_output=True,
                text=True,
                timeout=self.timeout,
                env=env,
                input=input,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise self.error(doing, f"no answer within {self.timeout:g} s", reason="timed out") from None
        except OSError as exc:
            raise self.error(
                doing, f"git could not run: {exc}", reason="git missing", permanent=True
            ) from None
        return done

    def error(self, doing: str, text: str, *, reason: str, permanent: bool = False) -> BackendError:
        return BackendError(
            f"{doing}: {reason} ({text})", permanent=permanent, backend=self.backend, reason=reason
        )

    def classified(self, doing: str, text: str) -> BackendError:
        lowered = text.lower()
        if "not a git repository" in lowered:
            return self.error(doing, text, reason="not a repository", permanent=True)
        if "index.lock" in lowered or "cannot lock ref" in lowered or "unable to create" in lowered:
            # Another git process (a concurrent re-seal, a person) holds the lock or moved the
            # branch first: worth a retry, which reads the branch afresh.
            return self.error(doing, text, reason="busy")
        if any(word in lowered for word in _REFUSED):
            return self.error(doing, text, reason="push refused", permanent=True)
        if any(word in lowered for word in _DENIED):
            return self.error(doing, text, reason="permission denied", permanent=True)
        if any(word in lowered for word in _UNREACHABLE):
            return self.error(doing, text, reason="unreachable")
        if "unknown revision" in lowered or "bad revision" in lowered or "did not match any" in lowered:
            return self.error(doing, text, reason="not found", permanent=True)
        if "not possible to fast-forward" in lowered or "diverging" in lowered:
            return self.error(doing, text, reason="diverged", permanent=True)
        return self.error(doing, text, reason="git failed", permanent=True)

    @contextmanager
    def exclusive(self, doing: str, wait: float = 10):
        """Hold the clone's console lock (a file lock in .git) while working in its working tree:
        two git commands moving one checked-out branch at once can leave files half-updated.
        Raises BackendError "busy" (temporary) if another holder keeps it longer than `wait`."""
        path = self.path / ".git" / "candlefish.lock"
        with open(path, "a+") as handle:
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise self.error(
                            doing, "another re-seal is at work in the clone", reason="busy"
                        ) from None
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # --- questions ------------------------------------------------------------------------
    def is_repository(self) -> bool:
        try:
            return self.run("rev-parse", "--is-inside-work-tree", doing="open the clone").strip() == "true"
        except BackendError:
            return False

    def head(self, ref: str = "HEAD") -> str | None:
        """The commit `ref` names, or None if it does not exist (an empty repository, a new branch)."""
        out = self.run(
            "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", doing=f"read {ref}", check=False
        )
        return out.strip() or None

    def current_branch(self) -> str:
        return self.run(
            "symbolic-ref", "--quiet", "--short", "HEAD", doing="read the branch", check=False
        ).strip()

    def dirty_files(self) -> list[str]:
        """Paths with uncommitted changes (tracked or not): a person is editing the clone."""
        out = self.run("status", "--porcelain", "--untracked-files=all", doing="read the working tree")
        return [line[3:] for line in out.splitlines() if line.strip()]

    def tracked_files(self) -> list[str]:
        out = self.run("ls-files", "-z", doing="list files")
        return sorted(name for name in out.split("\0") if name)

    def history(self) -> dict[str, list[Commit]]:
        """file -> the commits that changed it, newest first, from one `git log` over the clone."""
        if self.head() is None:
            return {}
        out = self.run(
            "log", "--no-renames", "--format=%x1e%H%x1f%an%x1f%ae%x1f%cI%x1f%s", "--name-only",
            doing="read the history",
        )  # fmt: skip
        changes: dict[str, list[Commit]] = {}
        for record in out.split("\x1e")[1:]:
            header, _, names = record.partition("\n")
            sha, author, email, date, subject = (header.split("\x1f") + [""] * 5)[:5]
            commit = Commit(sha, author, email, date, subject)
            for name in names.splitlines():
                if name.strip():
                    changes.setdefault(name.strip(), []).append(commit)
        return changes

    def commit_with_subject(self, ref: str, text: str, *, since: str | None = None) -> str | None:
        """The newest commit on `ref` (after `since`) whose message contains `text`, or None."""
        if self.head(ref) is None:
            return None
        span = f"{since}..{ref}" if since else ref
        out = self.run("log", "--format=%H", "-F", f"--grep={text}", span, doing=f"search {ref}")
        return out.split()[0] if out.split() else None

    def is_ancestor(self, older: str, newer: str) -> bool:
        return self.succeeds("merge-base", "--is-ancestor", older, newer, doing="compare commits")

    # --- remote ---------------------------------------------------------------------------
    def fetch(self, remote: str, branch: str) -> None:
        self.run("fetch", "--quiet", "--no-tags", remote, branch, doing=f"fetch {branch} from {remote}")

    def ls_remote(self, remote: str) -> None:
        self.run("ls-remote", "--heads", remote, doing=f"reach {remote}")

    def push(self, remote: str, refspec: str) -> None:
        self.run("push", "--quiet", "--porcelain", remote, refspec, doing=f"push {refspec} to {remote}")

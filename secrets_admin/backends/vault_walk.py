"""The metadata walk of an OpenBao/Vault backend: KV v2 folders, PKI certificates and database
objects, read in parallel. A mixin of VaultBackend (vault.py), through its `_call`, `_data` and
`_list` helpers, so hvac stays in vault.py alone and every error is the adapter's BackendError.
"""

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import islice

from secrets_admin.backends import vault_records as records
from secrets_admin.backends import vault_values
from secrets_admin.backends.base import BackendError, ListingProblem, RemoteSecret

STAGING = vault_values.PENDING_FOLDER + "/"  # rotations' pending values: not secrets of their own


class VaultWalk:
    def iter_secrets(self):
        """KV (recursively), then PKI certificates, then database objects. A failing folder or
        item yields a ListingProblem (a folder's path ends in "/": nothing under it was seen);
        failing at an engine's root raises BackendError."""
        engines = self.engines()
        # One pool for the whole walk: its threads keep their clients (and HTTP connections)
        # from folder to folder, instead of starting 8 threads and connections per folder.
        with ThreadPoolExecutor(max_workers=self._workers(), thread_name_prefix=f"walk-{self.name}") as pool:
            self._local.pool = pool
            try:
                if "kv" in engines:
                    yield from self._walk_kv()
                if "pki" in engines:
                    yield from self.walk_pki()
                if "database" in engines:
                    yield from self._walk_database()
            finally:
                self._local.pool = None

    def describe(self, path: str) -> RemoteSecret:
        engine, rest = self._split(path)
        if engine == "kv":
            return self._kv(rest)
        kind, _, name = rest.partition("/")
        if engine == "pki":
            return self._certificate(name)
        return self._database_object(kind, name)

    # --- KV v2 -----------------------------------------------------------------------------
    def _kv(self, key: str) -> RemoteSecret:
        kv = self.mounts["kv"]
        data = self._data(f"{kv}/metadata/{key}", f"read metadata of {kv}/{key}")
        return records.kv_secret(self.name, f"{kv}/{key}", data)

    def kv_exists(self, key: str) -> bool:
        try:
            self._kv(key)
        except BackendError as exc:
            if self.not_found(exc) or "not found" in str(exc):
                return False
            raise
        return True

    def _walk_kv(self):
        yield from self._read_all(self._kv_jobs())

    def _kv_jobs(self):
        """Read jobs for every key, folder by folder (depth-first), listed lazily: the next
        folder is listed while the reads of the previous one are still in flight."""
        kv = self.mounts["kv"]
        root = (self.config.get("kv_prefix") or "").strip("/")
        root = f"{root}/" if root else ""
        pending = [root]
        while pending:
            folder = pending.pop()
            try:
                keys = self._list(f"{kv}/metadata/{folder}", f"list {kv}/{folder}")
            except BackendError as exc:
                if folder == root:
                    raise
                yield ListingProblem(self.name, f"{kv}/{folder}", exc)
                continue
            keys = sorted(keys)
            yield from (
                (f"{kv}/{folder}{key}", self._kv, folder + key) for key in keys if not key.endswith("/")
            )
            folders = [folder + key for key in keys if key.endswith("/") and folder + key != STAGING]
            pending.extend(reversed(folders))  # depth-first

    def _read_all(self, jobs):
        """Run `_item(*job)` for every job and yield the results in order, with up to `workers`
        (config, default 8) reads in flight: a walk is latency-bound, one request per secret.
        A ListingProblem among the jobs is passed through in its place."""
        pool = getattr(self._local, "pool", None)
        if self._workers() <= 1 or pool is None:
            yield from (job if isinstance(job, ListingProblem) else self._item(*job) for job in jobs)
            return

        def submit(job):
            if isinstance(job, ListingProblem):
                done = Future()
                done.set_result(job)
                return done
            return pool.submit(self._item, *job)

        todo, window = iter(jobs), deque()
        for job in islice(todo, self._workers() * 2):
            window.append(submit(job))
        while window:
            result = window.popleft().result()
            job = next(todo, None)
            if job is not None:
                window.append(submit(job))
            yield result

    def _workers(self) -> int:
        return max(1, int(self.config.get("workers") or 8))

    def _item(self, path: str, read, *args):
        try:
            return read(*args)
        except BackendError as exc:
            return ListingProblem(self.name, path, exc)
        except (ValueError, KeyError, TypeError) as exc:  # a response we could not parse
            problem = BackendError(f"unreadable answer for {path}: {exc}", permanent=True, backend=self.name)
            return ListingProblem(self.name, path, problem)

    # --- PKI -------------------------------------------------------------------------------
    def _certificate(self, serial: str) -> RemoteSecret:
        pki = self.mounts["pki"]
        data = self._data(f"{pki}/cert/{serial}", f"read certificate {serial}")
        return records.pki_secret(self.name, f"{pki}/cert/{serial}", serial, data)

    def walk_pki(self):
        pki = self.mounts["pki"]
        serials = sorted(self._list(f"{pki}/certs", f"list {pki}/certs"))
        yield from self._read_all([(f"{pki}/cert/{serial}", self._certificate, serial) for serial in serials])

    # --- database engine -------------------------------------------------------------------
    def _database_object(self, kind: str, name: str) -> RemoteSecret:
        db = self.mounts["database"]
        path = f"{db}/{kind}/{name}"
        data = self._data(path, f"read {path}")
        if kind == "config":
            return records.db_connection(self.name, path, name, data)
        if kind == "static-roles":
            return records.db_static_role(self.name, path, name, data)
        leases, problems = self.lease_count(name)
        return records.db_role(self.name, path, name, data, leases, problems)

    def lease_count(self, role: str) -> tuple[int | None, list[str]]:
        """Outstanding leases of a dynamic role (needs sudo on sys/leases/lookup)."""
        prefix = f"sys/leases/lookup/{self.mounts['database']}/creds/{role}/"
        try:
            return len(self._list(prefix, f"count leases of {role}")), []
        except BackendError as exc:
            return None, [f"leases not counted: {exc}"]

    def _walk_database(self):
        db = self.mounts["database"]
        for kind in ("config", "roles", "static-roles"):
            for name in sorted(self._list(f"{db}/{kind}", f"list {db}/{kind}")):
                yield self._item(f"{db}/{kind}/{name}", self._database_object, kind, name)

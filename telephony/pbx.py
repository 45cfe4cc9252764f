"""The floor's local PBX: Kamailio with the repository's configuration (telephony/kamailio/),
against the hotline database — `hotline pbx start | stop | status`.

A centre with its own PBX (Asterisk, FreeSWITCH, a vendor's) does not run this: the consoles
need only a registrar for the seats' extensions and calls to them ([sip] in seats.toml).
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from domain.sip import SipSettings

from .errors import PbxError

TEMPLATE = Path(__file__).parent / "kamailio" / "kamailio.cfg"
ALIVE_SECONDS = 30  # a console whose heartbeat is older is not offered calls (hotline.toml offline_seconds)


def kamailio_binary() -> str:
    found = shutil.which("kamailio") or next((p for p in ("/usr/sbin/kamailio",) if os.path.exists(p)), None)
    if not found:
        raise PbxError("没有安装 Kamailio：sudo apt-get install kamailio kamailio-postgres-modules"
                       "（tools/sysdeps.sh 会安装）")
    return found


def modules_dir() -> str:
    for candidate in sorted(glob.glob("/usr/lib/*/kamailio/modules")) + ["/usr/lib/kamailio/modules"]:
        if os.path.exists(os.path.join(candidate, "db_postgres.so")):
            return candidate
    raise PbxError("Kamailio 缺少 PostgreSQL 模块：sudo apt-get install kamailio-postgres-modules")


def kamailio_db_url(dsn: str) -> str:
    """A libpq DSN as Kamailio's db_postgres takes it. A Unix-socket server is reached through
    the database part, which libpq expands as a connection string (its host overrides)."""
    parts = urlsplit(dsn)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    user, password = unquote(parts.username or ""), unquote(parts.password or "")
    database = parts.path.lstrip("/") or "postgres"
    host = query.get("host") or parts.hostname or "localhost"
    port = query.get("port") or (str(parts.port) if parts.port else "")
    if any(c in password for c in " '\\"):
        raise PbxError("数据库密码含空格或引号，Kamailio 无法使用")
    if host.startswith("/"):
        conninfo = f"dbname={database} host={host}" + (f" port={port}" if port else "")
        return f"postgres://{user}:{password}@localhost/{conninfo}"
    return f"postgres://{user}:{password}@{host}" + (f":{port}" if port else "") + f"/{database}"


@dataclass(frozen=True)
class PbxPlan:
    """Where and how the local PBX runs."""

    run_dir: Path
    listen: str
    port: int
    debug: int = 1

    @property
    def config(self) -> Path:
        return self.run_dir / "kamailio.cfg"

    @property
    def pid_file(self) -> Path:
        return self.run_dir / "kamailio.pid"

    @property
    def log_file(self) -> Path:
        return self.run_dir / "kamailio.log"


def render(plan: PbxPlan, sip: SipSettings, db_url: str) -> str:
    values = {"DEBUG": plan.debug, "LISTEN": plan.listen, "PORT": plan.port, "DOMAIN": sip.domain,
              "MODULES": modules_dir(), "RUN": plan.run_dir, "DBURL": db_url, "SERVICE": sip.service_number,
              "QUEUE_LIMIT": sip.queue_limit, "QUEUE_SECONDS": sip.queue_seconds,
              "RING_SECONDS": sip.ring_seconds, "RING_MS": sip.ring_seconds * 1000,
              "ALIVE_SECONDS": ALIVE_SECONDS}
    text = TEMPLATE.read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace(f"@@{key}@@", str(value))
    if "@@" in text:
        raise PbxError(f"配置模板有未填的值：{text[text.index('@@'):][:40]}")
    return text


def running_pid(plan: PbxPlan) -> int | None:
    try:
        pid = int(plan.pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    return pid


def _answers(host: str, port: int, timeout: float) -> bool:
    """A SIP OPTIONS keepalive over UDP gets a reply."""
    probe = (f"OPTIONS sip:{host}:{port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK{time.time_ns()}\r\n"
             f"From: <sip:probe@{host}>;tag=1\r\nTo: <sip:{host}>\r\nCall-ID: probe-{time.time_ns()}\r\n"
             "CSeq: 1 OPTIONS\r\nMax-Forwards: 2\r\nContent-Length: 0\r\n\r\n").encode()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(timeout)
        probe = probe.replace(b"127.0.0.1:9", f"127.0.0.1:{sock.getsockname()[1]}".encode())
        try:
            sock.sendto(probe, (host, port))
            return sock.recv(4096).startswith(b"SIP/2.0 200")
        except OSError:
            return False


def start(plan: PbxPlan, sip: SipSettings, db_url: str, wait: float = 15.0) -> int:
    """Render the configuration (0600: it holds the database password), check it, run
    Kamailio, and wait until it answers; its pid."""
    if running_pid(plan):
        raise PbxError(f"交换机已在运行（pid {running_pid(plan)}）")
    binary = kamailio_binary()
    plan.run_dir.mkdir(parents=True, exist_ok=True)
    plan.run_dir.chmod(0o700)
    fd = os.open(plan.config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(render(plan, sip, db_url))
    checked = subprocess.run([binary, "-c", "-f", str(plan.config)], capture_output=True, text=True)
    if checked.returncode != 0:
        raise PbxError(f"Kamailio 配置检查失败：{(checked.stderr or checked.stdout).strip()[-800:]}")
    with open(plan.log_file, "ab") as log:
        subprocess.run([binary, "-f", str(plan.config), "-P", str(plan.pid_file), "-Y", str(plan.run_dir),
                        "-E"], stdout=log, stderr=log, check=False, start_new_session=True)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        pid = running_pid(plan)
        if pid and _answers(plan.listen, plan.port, 0.5):
            return pid
        time.sleep(0.2)
    stop(plan)
    raise PbxError(f"Kamailio 没有启动，见 {plan.log_file}")


def stop(plan: PbxPlan, wait: float = 10.0) -> bool:
    """Stop it (SIGTERM, then SIGKILL); False when it was not running."""
    pid = running_pid(plan)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and running_pid(plan):
        time.sleep(0.1)
    if running_pid(plan):
        os.killpg(os.getpgid(pid), signal.SIGKILL)
    plan.pid_file.unlink(missing_ok=True)
    return True


def registered(plan: PbxPlan) -> list[str]:
    """The extensions registered now (kamcmd over the control socket)."""
    kamcmd = shutil.which("kamcmd") or "/usr/sbin/kamcmd"
    done = subprocess.run([kamcmd, "-s", f"unix:{plan.run_dir}/kamailio_ctl", "ul.dump", "brief"],
                          capture_output=True, text=True, timeout=10)
    found = []
    for line in done.stdout.splitlines():
        line = line.strip()
        if line.startswith("AoR:"):
            found.append(line.split(":", 1)[1].strip().split("@")[0])
    return sorted(found)

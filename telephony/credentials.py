"""The seats' SIP passwords: never in seats.toml. A seat's phone takes its password from
`HOTLINE_SIP_PASSWORD_<extension>` or from the passwords file — `HOTLINE_SIP_PASSWORDS`, else
`sip_passwords.toml` in the data dir — which must be readable by its owner only:

    # extension = "password"
    "8001" = "…"
"""

from __future__ import annotations

import os
import secrets
import stat
import tomllib
from pathlib import Path

from common.paths import data_dir

from .errors import CredentialError


def passwords_file() -> Path:
    override = os.environ.get("HOTLINE_SIP_PASSWORDS")
    return Path(override) if override else data_dir() / "sip_passwords.toml"


def load_passwords(path: Path) -> dict[str, str]:
    """Extension → password; {} when the file does not exist."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return {}
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise CredentialError(f"{path}: 其他用户可读（权限 {stat.S_IMODE(info.st_mode):o}），请执行 chmod 600 {path}")
    if info.st_uid != os.geteuid():
        raise CredentialError(f"{path}: 不属于当前用户，拒绝读取")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CredentialError(f"{path}: 格式不对（{exc}）") from None
    bad = [k for k, v in data.items() if not isinstance(v, str) or not v]
    if bad:
        raise CredentialError(f"{path}: 分机 {', '.join(bad)} 的密码须为非空字符串")
    return dict(data)


def password_for(extension: str, path: Path | None = None) -> str:
    from_env = os.environ.get(f"HOTLINE_SIP_PASSWORD_{extension}")
    if from_env:
        return from_env
    path = path or passwords_file()
    found = load_passwords(path).get(extension)
    if not found:
        raise CredentialError(f"分机{extension}没有SIP密码：设置 HOTLINE_SIP_PASSWORD_{extension}，或写入 {path}")
    return found


def ensure_passwords(extensions: list[str], path: Path | None = None) -> dict[str, str]:
    """Every extension's password, making the missing ones (the local PBX's own seats);
    written atomically, 0600."""
    path = path or passwords_file()
    known = load_passwords(path)
    missing = [e for e in extensions if e not in known]
    if missing:
        known.update({e: secrets.token_urlsafe(12) for e in missing})
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("# SIP passwords of the seats' extensions (hotline pbx); keep this file 0600\n")
            fh.writelines(f'"{ext}" = "{pw}"\n' for ext, pw in sorted(known.items()))
        os.replace(temporary, path)
    return known

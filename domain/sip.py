"""The [sip] table of seats.toml: where the seats' SIP phones register and how the floor's ACD
treats calls. Pure validation (errors name file, line and key); passwords never live here —
telephony/credentials.py reads them from the environment or a file only its owner can read.

    [sip]
    domain = "hotline.local"        # the SIP domain of the seats' addresses (sip:8001@domain)
    registrar = "127.0.0.1:5060"    # host[:port] the seats register to (the PBX)
    transport = "udp"               # udp | tcp | tls
    expiry = 300                    # seconds a registration lasts before it is renewed
    service_number = "12345"        # what citizens dial; the ACD takes these calls
    ring_seconds = 15               # a seat that does not answer in this time: the next seat
    queue_limit = 20                # callers waiting for a seat at most; the next one gets busy
    queue_seconds = 300             # a caller waits at most this long for a ready seat
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

from common.userfile import read_text

from .seats import SeatsConfigError

_HOSTPORT = re.compile(r"^(?P<host>[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:]+\])(?::(?P<port>\d{1,5}))?$")
_DIGITS = re.compile(r"^[0-9]{3,11}$")


@dataclass(frozen=True)
class SipSettings:
    domain: str = "hotline.local"
    registrar: str = "127.0.0.1:5060"
    transport: str = "udp"
    expiry: int = 300
    service_number: str = "12345"
    ring_seconds: int = 15
    queue_limit: int = 20
    queue_seconds: int = 300

    @property
    def registrar_host(self) -> str:
        return _HOSTPORT.match(self.registrar)["host"]

    @property
    def registrar_port(self) -> int:
        port = _HOSTPORT.match(self.registrar)["port"]
        return int(port) if port else (5061 if self.transport == "tls" else 5060)

    def registrar_uri(self) -> str:
        """The SIP URI of the registrar, with the transport when it is not UDP."""
        suffix = "" if self.transport == "udp" else f";transport={self.transport}"
        scheme = "sips" if self.transport == "tls" else "sip"
        return f"{scheme}:{self.registrar_host}:{self.registrar_port}{suffix}"

    def seat_uri(self, extension: str) -> str:
        return f"sip:{extension}@{self.domain}"


_RANGES = {"expiry": (60, 86400), "ring_seconds": (5, 120), "queue_limit": (0, 1000), "queue_seconds": (10, 3600)}


def _line_of(text: str, key: str) -> int:
    in_sip = False
    for number, line in enumerate(text.splitlines(), 1):
        if re.match(r"^\s*\[", line):
            in_sip = bool(re.match(r"^\s*\[\s*sip\s*\]", line))
        elif in_sip and re.match(rf"^\s*{re.escape(key)}\s*=", line):
            return number
    return 1


def parse_sip(text: str, source: str = "seats.toml") -> SipSettings | None:
    """The [sip] table (None when the floor has none: no SIP phones, calls come from audio)."""
    try:
        table = tomllib.loads(text).get("sip")
    except tomllib.TOMLDecodeError as exc:
        raise SeatsConfigError(f"{source}: not valid TOML: {exc}") from None
    if table is None:
        return None

    def fail(key: str, message: str) -> None:
        raise SeatsConfigError(f"{source}:{_line_of(text, key)}: [sip] {key}: {message}")

    if not isinstance(table, dict):
        raise SeatsConfigError(f"{source}: 'sip' must be a table [sip]")
    known = {f.name for f in fields(SipSettings)}
    for key in table:
        if "password" in key:
            fail(key, "passwords do not belong in seats.toml (HOTLINE_SIP_PASSWORD_<extension> or the "
                      "passwords file, see the README)")
        if key not in known:
            fail(key, f"unknown key (expected one of {', '.join(sorted(known))})")
    values = {**{f.name: f.default for f in fields(SipSettings)}, **table}
    for key in ("domain", "registrar", "transport", "service_number"):
        if not isinstance(values[key], str):
            fail(key, f"must be a string, got {values[key]!r}")
    if not re.fullmatch(r"[A-Za-z0-9.\-]{1,253}", values["domain"]):
        fail("domain", f"must be a host name, got {values['domain']!r}")
    match = _HOSTPORT.match(values["registrar"])
    if not match or (match["port"] and not 0 < int(match["port"]) < 65536):
        fail("registrar", f"must be host or host:port, got {values['registrar']!r}")
    if values["transport"] not in ("udp", "tcp", "tls"):
        fail("transport", f"must be udp, tcp or tls, got {values['transport']!r}")
    if not _DIGITS.match(values["service_number"]):
        fail("service_number", f"must be 3-11 digits, got {values['service_number']!r}")
    for key, (low, high) in _RANGES.items():
        value = values[key]
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            fail(key, f"must be a whole number from {low} to {high}, got {value!r}")
    return SipSettings(**values)


def load_sip(path: Path) -> SipSettings | None:
    return parse_sip(read_text(path, SeatsConfigError), str(path))

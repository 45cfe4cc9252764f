"""Which database to talk to, and as whom: `HOTLINE_DSN`, else the embedded server in the data dir.

The schema owner's connection (migrations, imports, `hotline db …`: role `owner`) and the
applications' (role `agent` for a seat console, `supervisor` for the wallboard, `inspector`
for QA, `unit`, `worker`) are different, and none is a superuser; on the embedded server the
superuser (reached only by the machine's own OS users) just manages the roles. On an external server,
`HOTLINE_DSN_AGENT` (… `_SUPERVISOR`, `_INSPECTOR`, `_UNIT`) name the roles' DSNs;
without them the applications use `HOTLINE_DSN`.
"""

from __future__ import annotations

import os

from common.paths import data_dir

from .embedded import EmbeddedPostgres
from .roles import ROLE_NAMES


def external_dsn() -> str | None:
    return os.environ.get("HOTLINE_DSN") or None


def embedded_server() -> EmbeddedPostgres:
    return EmbeddedPostgres(data_dir())


def resolve_dsn(role: str | None = None) -> str:
    """The administrator's DSN (role None), or the one application `role` connects with."""
    if role is not None and role not in ROLE_NAMES:
        raise ValueError(f"unknown database role {role!r} (one of {', '.join(ROLE_NAMES)})")
    external = external_dsn()
    if external:
        return (os.environ.get(f"HOTLINE_DSN_{role.upper()}") if role else None) or external
    server = embedded_server()
    server.start()
    return server.role_dsn(role) if role else server.dsn()


def role_passwords() -> dict[str, str] | None:
    """The embedded server's application-role passwords (None on an external server, whose
    roles its administrator creates: `hotline db roles`)."""
    return None if external_dsn() else embedded_server().passwords()

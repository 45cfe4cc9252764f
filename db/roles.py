"""The database roles the applications connect as: none is a superuser, none owns a table,
each can do what its work needs and nothing else.

| role | who | may |
| --- | --- | --- |
| hotline_agent | seat consoles | read reference data, tickets and calls (the agent is on the call); append seat events, calls, tickets and their events; fill in a call once; beat the heart |
| hotline_supervisor | the wallboard | read the floor: seats, their events and heartbeats; calls and tickets without their personal columns, or masked |
| hotline_inspector | the QA screen | read calls and tickets through masked views only; append QA samples and scores |
| hotline_unit | units handling tickets | read the tickets and their events; append ticket events |
| hotline_worker | `hotline worker` | read tickets and their events; append warnings |
| hotline_pbx | the floor's PBX (Kamailio) | read the seats' SIP credentials (HA1); run the ACD queue (functions that read seat states themselves) |

The schema is owned, and migrated, by `hotline_owner` (no superuser either); creating the roles
is the administrator's (the embedded server's superuser, reached only by the machine's owner). No application role
can alter a table (so no disabling a trigger), truncate, or run a program on the server.
"""

from __future__ import annotations

import secrets
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg

ROLES = {"agent": "hotline_agent", "supervisor": "hotline_supervisor",
         "inspector": "hotline_inspector", "unit": "hotline_unit", "worker": "hotline_worker",
         "pbx": "hotline_pbx"}
OWNER = "hotline_owner"  # owns the schema and runs the migrations; not a superuser either
ROLE_NAMES = {**ROLES, "owner": OWNER}
_APPS = ", ".join(role for key, role in ROLES.items() if key != "pbx")  # the PBX reads no public table
_REFERENCE = ("seats", "agents", "categories", "units", "routing_rules", "kb_articles", "kb_vectors",
              "gazetteer_addresses", "gazetteer_imports", "schema_migrations")

GRANTS = f"""
REVOKE ALL ON SCHEMA public FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {", ".join(ROLES.values())};
GRANT USAGE ON SCHEMA public TO {_APPS};
GRANT SELECT ON {", ".join(_REFERENCE)} TO {_APPS};

GRANT SELECT ON seat_events, seat_heartbeats, calls, calls_corrected, tickets, ticket_events, ticket_status
    TO hotline_agent;
GRANT INSERT ON agents, seat_events, calls, tickets, ticket_events TO hotline_agent;
GRANT INSERT, UPDATE ON seat_heartbeats TO hotline_agent;
GRANT UPDATE (answer_at, end_at, end_reason, recording_path, recording_seconds, transcript)
    ON calls TO hotline_agent;
GRANT INSERT, UPDATE ON kb_vectors TO hotline_agent;  -- derived data a console may compute
GRANT USAGE ON SEQUENCE calls_id_seq, seat_events_id_seq, tickets_id_seq, ticket_events_id_seq
    TO hotline_agent;

-- the wallboard counts calls and tickets, and shows a seat's call masked
GRANT SELECT ON seat_events, seat_heartbeats, ticket_status, inspection_calls, inspection_tickets
    TO hotline_supervisor;
GRANT SELECT (id, seat_id, agent_id, ring_at, answer_at, end_at, end_reason) ON calls TO hotline_supervisor;
GRANT SELECT (id, ticket_no, accepted_at, stored_at, ticket_type, urgency, channel, handling_mode,
              category_code, address_code, unit_code, deadline_at, call_id, seat_id, agent_id)
    ON tickets TO hotline_supervisor;

GRANT SELECT ON inspection_calls, inspection_tickets, qa_samples, qa_scores TO hotline_inspector;
GRANT INSERT ON qa_scores TO hotline_inspector;
GRANT INSERT, UPDATE ON qa_samples TO hotline_inspector;
GRANT USAGE ON SEQUENCE qa_scores_id_seq TO hotline_inspector;

GRANT SELECT ON tickets, ticket_events, ticket_status TO hotline_unit, hotline_worker;
GRANT SELECT ON ticket_current, ticket_open TO hotline_agent, hotline_supervisor, hotline_unit, hotline_worker;
GRANT SELECT ON ticket_turns TO hotline_supervisor, hotline_unit;  -- rankings: no personal data in it
GRANT INSERT ON ticket_events TO hotline_unit, hotline_worker, hotline_supervisor;
GRANT USAGE ON SEQUENCE ticket_events_id_seq TO hotline_unit, hotline_worker, hotline_supervisor;
GRANT SELECT ON ticket_events TO hotline_supervisor;  -- supervising reads what units wrote

-- the PBX: credentials and the ACD's three functions (which read seat states themselves)
GRANT USAGE ON SCHEMA pbx TO hotline_pbx, hotline_supervisor;
GRANT SELECT ON pbx.subscriber, pbx.version TO hotline_pbx;
GRANT EXECUTE ON FUNCTION pbx.acd_join(text, text, integer, integer), pbx.acd_wait(text, bigint, bigint, text),
    pbx.acd_ring_now(text, integer, integer), pbx.acd_due(integer, integer, integer),
    pbx.acd_action(text), pbx.acd_leave(text) TO hotline_pbx;
GRANT SELECT (since, offered_seat) ON pbx.waiting TO hotline_supervisor;  -- callers waiting, no numbers

REVOKE ALL ON FUNCTION close_silent_seats(interval), next_ticket_no(date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION next_ticket_no(date) TO hotline_agent;
GRANT EXECUTE ON FUNCTION close_silent_seats(interval) TO hotline_agent, hotline_supervisor;
"""


def new_password() -> str:
    return secrets.token_urlsafe(24)


def with_login(dsn: str, role: str, password: str) -> str:
    """`dsn` with another user and password (host, port, database and options kept)."""
    parts = urlsplit(dsn)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{quote(role, safe='')}:{quote(password, safe='')}@{host}"))


def _role_statement(verb: str, role: str, password: str, inherit: bool = False) -> str:
    """CREATE or ALTER a login role that can do nothing but what is granted to it."""
    literal = password.replace("'", "''")
    return (f"{verb} ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
            f"{'' if inherit else ' NOINHERIT'} PASSWORD '{literal}'")


async def _set_role(conn: asyncpg.Connection, role: str, password: str, inherit: bool = False) -> None:
    exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
    await conn.execute(_role_statement("ALTER" if exists else "CREATE", role, password, inherit))


def create_sql() -> str:
    """CREATE ROLE statements for an external server (a placeholder for each password)
    followed by the grants."""
    lines = ["-- hotline application roles: run as the schema owner after `hotline db migrate`"]
    lines += [_role_statement("CREATE", role, f"<password for {role}>") + ";" for role in ROLES.values()]
    return "\n".join(lines) + "\n" + GRANTS


async def ensure_owner(conn: asyncpg.Connection, password: str) -> None:
    """Make hotline_owner (no superuser, no role creation) the owner of this database and of
    every object of its schema, which a cluster of an earlier version had the superuser own;
    the migrations then run as it. Run as the administrator; idempotent."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(12345, 2)")
        await _set_role(conn, OWNER, password, inherit=True)
        database = await conn.fetchval("SELECT current_database()")
        await conn.execute(f'ALTER DATABASE "{database}" OWNER TO {OWNER}')
        # tables, views and free sequences (a serial's sequence follows its table), functions;
        # not what an extension brought
        relations = await conn.fetch(
            """SELECT c.relkind, format('%I', c.relname) AS name FROM pg_class c
               JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'S') AND c.relowner <> $1::regrole
                 AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                                 AND d.objid = c.oid AND d.deptype IN ('e', 'a', 'i'))""", OWNER)
        kinds = {"r": "TABLE", "v": "VIEW", "S": "SEQUENCE"}
        for r in relations:
            await conn.execute(f"ALTER {kinds[r['relkind']]} {r['name']} OWNER TO {OWNER}")
        functions = await conn.fetch(
            """SELECT p.oid::regprocedure::text AS signature FROM pg_proc p
               JOIN pg_namespace n ON n.oid = p.pronamespace
               WHERE n.nspname = 'public' AND p.proowner <> $1::regrole
                 AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                                 AND d.objid = p.oid AND d.deptype = 'e')""", OWNER)
        for f in functions:
            await conn.execute(f"ALTER FUNCTION {f['signature']} OWNER TO {OWNER}")


async def ensure_roles(conn: asyncpg.Connection, passwords: dict[str, str]) -> None:
    """Create the roles that are missing, (re)set their passwords and apply the grants;
    idempotent. Run as the administrator, after the migrations."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(12345, 2)")
        for key, role in ROLES.items():
            await _set_role(conn, role, passwords[key])
        await conn.execute(GRANTS)

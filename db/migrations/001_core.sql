-- Core schema: seats and agents, calls, taxonomy, units and routing, KB, tickets.
-- Times are timestamptz; the embedded server runs with timezone Asia/Shanghai.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Refuse UPDATE, DELETE and TRUNCATE: used for append-only tables.
CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused (record a new event instead)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

-- Seats -------------------------------------------------------------------------------
CREATE TABLE seats (
    id            integer PRIMARY KEY CHECK (id > 0),
    extension     text NOT NULL UNIQUE DEFERRABLE,
    seat_group    text NOT NULL,
    audio_device  text NOT NULL,
    floor_row     integer NOT NULL CHECK (floor_row > 0),
    floor_col     integer NOT NULL CHECK (floor_col > 0),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (floor_row, floor_col) DEFERRABLE
);

CREATE TABLE agents (
    id          text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 32),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    hired_on    date,
    active      boolean NOT NULL DEFAULT true
);

CREATE TABLE seat_events (
    id          bigserial PRIMARY KEY,
    seat_id     integer NOT NULL REFERENCES seats(id),
    agent_id    text REFERENCES agents(id),
    state       text NOT NULL CHECK (state IN ('就绪', '通话中', '话后整理', '小休', '离线')),
    reason      text CHECK (length(reason) <= 64),
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX seat_events_seat_at ON seat_events (seat_id, at DESC);
CREATE TRIGGER seat_events_append_only BEFORE UPDATE OR DELETE ON seat_events
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

CREATE FUNCTION notify_seat_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('seat_events', json_build_object(
        'id', NEW.id, 'seat_id', NEW.seat_id, 'agent_id', NEW.agent_id,
        'state', NEW.state, 'reason', NEW.reason, 'at', NEW.at)::text);
    RETURN NEW;
END $$;
CREATE TRIGGER seat_events_notify AFTER INSERT ON seat_events
    FOR EACH ROW EXECUTE FUNCTION notify_seat_event();

-- Last heartbeat of each running console (one row per seat, overwritten).
CREATE TABLE seat_heartbeats (
    seat_id     integer PRIMARY KEY REFERENCES seats(id),
    agent_id    text REFERENCES agents(id),
    pid         integer,
    at          timestamptz NOT NULL DEFAULT now()
);

-- Calls ---------------------------------------------------------------------------------
CREATE TABLE calls (
    id                 bigserial PRIMARY KEY,
    seat_id            integer REFERENCES seats(id),
    agent_id           text REFERENCES agents(id),
    caller_number      text NOT NULL CHECK (length(caller_number) <= 32),
    ring_at            timestamptz NOT NULL,
    answer_at          timestamptz,
    end_at             timestamptz,
    recording_path     text,
    recording_seconds  double precision,
    transcript         jsonb NOT NULL DEFAULT '[]'::jsonb
);
CREATE INDEX calls_caller ON calls (caller_number, ring_at DESC);
CREATE INDEX calls_ring_at ON calls (ring_at);

-- Taxonomy, units, routing -------------------------------------------------------------
CREATE TABLE categories (
    code         text PRIMARY KEY,
    name         text NOT NULL,
    level        smallint NOT NULL CHECK (level BETWEEN 1 AND 3),
    parent_code  text REFERENCES categories(code),
    path         text NOT NULL
);

CREATE TABLE units (
    code    text PRIMARY KEY,
    name    text NOT NULL UNIQUE,
    kind    text NOT NULL DEFAULT '职能部门',
    phone   text
);

-- A rule matches when every non-null condition matches; the most specific rule wins
-- (longest category prefix, then town before district), ties broken by priority.
CREATE TABLE routing_rules (
    id               serial PRIMARY KEY,
    unit_code        text NOT NULL REFERENCES units(code),
    district_code    text,
    town_code        text,
    category_prefix  text,
    priority         integer NOT NULL DEFAULT 0
);

-- Knowledge base ------------------------------------------------------------------------
CREATE TABLE kb_articles (
    id          text PRIMARY KEY,
    title       text NOT NULL,
    questions   jsonb NOT NULL DEFAULT '[]'::jsonb,
    answer      text NOT NULL,
    department  text NOT NULL DEFAULT '',
    basis       text NOT NULL DEFAULT '',
    category    text NOT NULL DEFAULT '',
    tags        text[] NOT NULL DEFAULT '{}',
    valid_from  date,
    valid_to    date,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Tickets -------------------------------------------------------------------------------
-- Ticket numbers: YYYYMMDD-NNNN from one sequence per day (created on first use).
CREATE FUNCTION next_ticket_no(day date) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    seq text := 'ticket_no_' || to_char(day, 'YYYYMMDD');
    n bigint;
BEGIN
    IF to_regclass(seq) IS NULL THEN
        BEGIN
            EXECUTE format('CREATE SEQUENCE IF NOT EXISTS %I', seq);
        EXCEPTION WHEN unique_violation OR duplicate_table THEN
            NULL;  -- another writer created it first
        END;
    END IF;
    n := nextval(seq::regclass);
    RETURN to_char(day, 'YYYYMMDD') || '-' ||
           CASE WHEN n < 10000 THEN lpad(n::text, 4, '0') ELSE n::text END;
END $$;

-- The original record: written once, never updated or deleted.
CREATE TABLE tickets (
    id               bigserial PRIMARY KEY,
    ticket_no        text NOT NULL UNIQUE,
    idempotency_key  uuid NOT NULL UNIQUE,
    accepted_at      timestamptz NOT NULL,
    stored_at        timestamptz NOT NULL DEFAULT now(),
    ticket_type      text NOT NULL CHECK (ticket_type IN ('咨询', '求助', '投诉', '举报', '建议', '表扬')),
    urgency          text NOT NULL CHECK (urgency IN ('一般', '紧急')),
    channel          text NOT NULL,
    handling_mode    text NOT NULL CHECK (handling_mode IN ('直办', '派单')),
    category_code    text REFERENCES categories(code),
    caller_number    text NOT NULL,
    caller_name      text NOT NULL DEFAULT '',
    address_code     text,
    address_text     text NOT NULL DEFAULT '',
    content          text NOT NULL,
    unit_code        text REFERENCES units(code),
    kb_article_id    text,
    deadline_at      timestamptz NOT NULL,
    call_id          bigint REFERENCES calls(id),
    seat_id          integer,
    agent_id         text
);
CREATE INDEX tickets_accepted_at ON tickets (accepted_at);
CREATE INDEX tickets_caller ON tickets (caller_number, accepted_at DESC);
CREATE INDEX tickets_address ON tickets (address_code) WHERE address_code IS NOT NULL;
CREATE TRIGGER tickets_append_only BEFORE UPDATE OR DELETE ON tickets
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER tickets_no_truncate BEFORE TRUNCATE ON tickets
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- Everything that happens to a ticket after it is accepted.
CREATE TABLE ticket_events (
    id          bigserial PRIMARY KEY,
    ticket_id   bigint NOT NULL REFERENCES tickets(id),
    at          timestamptz NOT NULL DEFAULT now(),
    kind        text NOT NULL CHECK (kind IN ('status', 'note', 'correction')),
    status      text CHECK (status IN ('受理', '已派单', '已签收', '办理中', '已办结', '已回访',
                                       '已归档', '退单', '直办结')),
    unit_code   text REFERENCES units(code),
    actor       text NOT NULL DEFAULT '',
    note        text NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    payload     jsonb NOT NULL DEFAULT '{}'::jsonb,
    CHECK ((kind = 'status') = (status IS NOT NULL))
);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, id);
CREATE TRIGGER ticket_events_append_only BEFORE UPDATE OR DELETE ON ticket_events
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER ticket_events_no_truncate BEFORE TRUNCATE ON ticket_events
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- Current status of each ticket: its latest status event.
CREATE VIEW ticket_status AS
SELECT t.id AS ticket_id, t.ticket_no, s.status, s.unit_code, s.at AS status_at
FROM tickets t
CROSS JOIN LATERAL (
    SELECT e.status, e.unit_code, e.at FROM ticket_events e
    WHERE e.ticket_id = t.id AND e.kind = 'status'
    ORDER BY e.id DESC LIMIT 1
) s;

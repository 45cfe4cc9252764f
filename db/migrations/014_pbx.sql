-- What the floor's PBX (Kamailio, telephony/kamailio/) reads and writes, in a schema of its
-- own: the seats' SIP credentials (digest HA1 only, never the password), and the ACD — callers
-- waiting for a seat, and the seat each one is being offered. Kamailio connects as
-- hotline_pbx, which can read the credentials and call the three ACD functions, nothing else.
CREATE SCHEMA pbx;

-- Kamailio's modules check the version of the tables they use.
CREATE TABLE pbx.version (
    table_name    varchar(32) PRIMARY KEY,
    table_version integer NOT NULL
);
INSERT INTO pbx.version VALUES ('subscriber', 7), ('pbx.subscriber', 7);  -- as named in kamailio.cfg

CREATE TABLE pbx.subscriber (
    id       serial PRIMARY KEY,
    username varchar(64) NOT NULL,
    domain   varchar(64) NOT NULL,
    password varchar(64) NOT NULL DEFAULT '',  -- always empty: Kamailio reads ha1
    ha1      varchar(128) NOT NULL,             -- md5(username:domain:password)
    ha1b     varchar(128) NOT NULL DEFAULT '',
    UNIQUE (username, domain)
);

-- One row per caller of the service number until a seat answers or the caller gives up. While
-- it waits, its INVITE transaction is suspended in Kamailio (t_index, t_label) and the PBX's
-- dispatcher timer resumes it (pbx.acd_due) with an action: ring a seat, or give up. A caller
-- who hangs up (CANCEL) leaves the queue at once (pbx.acd_leave); Kamailio ends its INVITE.
CREATE TABLE pbx.waiting (
    call_id       text PRIMARY KEY,
    caller        text NOT NULL DEFAULT '',
    since         timestamptz NOT NULL DEFAULT clock_timestamp(),
    t_index       bigint,               -- the suspended transaction; NULL while it rings a seat
    t_label       bigint,
    tried         text NOT NULL DEFAULT ',',  -- seats that did not answer: ",8001,8002,"
    action        text CHECK (action IN ('ring', 'timeout')),
    offered_seat  integer REFERENCES seats (id),
    offered_until timestamptz
);

-- A caller joins the queue: its place (1 = next), or 0 when `queue_limit` callers already wait.
-- Callers older than `max_wait_seconds` are gone whatever happened to them (a PBX restarted
-- mid-call must not leave ghosts at the head of the queue).
CREATE FUNCTION pbx.acd_join(p_call_id text, p_caller text, queue_limit integer, max_wait_seconds integer)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pbx, public, pg_temp AS $$
DECLARE
    place integer;
BEGIN
    PERFORM pg_advisory_xact_lock(12345, 14);  -- the queue changes one step at a time
    DELETE FROM waiting WHERE since < clock_timestamp() - make_interval(secs => max_wait_seconds + 60);
    IF EXISTS (SELECT 1 FROM waiting WHERE call_id = p_call_id) THEN  -- a retransmission
        SELECT count(*) INTO place FROM waiting w, waiting me
        WHERE me.call_id = p_call_id AND w.since <= me.since;
        RETURN place;
    END IF;
    SELECT count(*) INTO place FROM waiting;
    IF place >= queue_limit THEN
        RETURN 0;
    END IF;
    INSERT INTO waiting (call_id, caller) VALUES (p_call_id, left(p_caller, 32));
    RETURN place + 1;
END $$;

-- The caller's transaction is suspended, waiting for a seat; `failed_seat` did not answer.
CREATE FUNCTION pbx.acd_wait(p_call_id text, p_index bigint, p_label bigint, failed_seat text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pbx, public, pg_temp AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(12345, 14);
    UPDATE waiting SET t_index = p_index, t_label = p_label, action = NULL, offered_seat = NULL,
                       offered_until = NULL,
                       tried = tried || CASE WHEN coalesce(failed_seat, '') = '' THEN '' ELSE failed_seat || ',' END
    WHERE call_id = p_call_id;
END $$;

-- The longest-idle seat a caller may be offered: 就绪, its console alive (heartbeat within
-- `alive_seconds`), not among the seats it `tried`, not being offered to another caller.
CREATE FUNCTION pbx.acd_free_seat(tried text, alive_seconds integer) RETURNS integer
LANGUAGE sql STABLE SET search_path = pbx, public, pg_temp AS $$
    SELECT s.id
    FROM seats s
    JOIN LATERAL (SELECT e.state, e.at FROM seat_events e WHERE e.seat_id = s.id
                  ORDER BY e.at DESC, e.id DESC LIMIT 1) now_in ON true
    JOIN seat_heartbeats h ON h.seat_id = s.id
    WHERE now_in.state = '就绪'
      AND h.at > clock_timestamp() - make_interval(secs => alive_seconds)
      AND position(',' || s.extension || ',' IN tried) = 0
      AND NOT EXISTS (SELECT 1 FROM waiting o WHERE o.offered_seat = s.id)
    ORDER BY now_in.at, s.id
    LIMIT 1;
$$;

-- A caller that just joined rings a seat at once — when nobody waits before it and a seat is
-- free: the seat's extension, else '' (it waits for the dispatcher).
CREATE FUNCTION pbx.acd_ring_now(p_call_id text, ring_seconds integer, alive_seconds integer) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pbx, public, pg_temp AS $$
DECLARE
    seat integer;
BEGIN
    PERFORM pg_advisory_xact_lock(12345, 14);
    IF EXISTS (SELECT 1 FROM waiting o, waiting me WHERE me.call_id = p_call_id AND o.call_id <> me.call_id
               AND o.since <= me.since) THEN
        RETURN '';
    END IF;
    seat := acd_free_seat(',', alive_seconds);
    IF seat IS NULL THEN
        RETURN '';
    END IF;
    UPDATE waiting SET offered_seat = seat,
                       offered_until = clock_timestamp() + make_interval(secs => ring_seconds + 5)
    WHERE call_id = p_call_id;
    RETURN (SELECT extension FROM seats WHERE id = seat);
END $$;

-- The dispatcher's round (every 200 ms): the suspended calls to resume now, each with its
-- action. Longest-waiting caller first, each offered the longest-idle free seat it has not
-- tried; callers past `queue_seconds` give up.
CREATE FUNCTION pbx.acd_due(ring_seconds integer, alive_seconds integer, queue_seconds integer)
RETURNS TABLE (call_id text, t_index bigint, t_label bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pbx, public, pg_temp AS $$
DECLARE
    caller record;
    seat integer;
BEGIN
    PERFORM pg_advisory_xact_lock(12345, 14);
    UPDATE waiting w SET offered_seat = NULL, offered_until = NULL
    WHERE w.offered_until < clock_timestamp() AND w.t_index IS NOT NULL;
    FOR caller IN SELECT * FROM waiting w WHERE w.t_index IS NOT NULL AND w.action IS NULL ORDER BY w.since LOOP
        IF caller.since < clock_timestamp() - make_interval(secs => queue_seconds) THEN
            UPDATE waiting w SET action = 'timeout' WHERE w.call_id = caller.call_id;
        ELSE
            seat := acd_free_seat(caller.tried, alive_seconds);
            CONTINUE WHEN seat IS NULL;
            UPDATE waiting w SET action = 'ring', offered_seat = seat,
                   offered_until = clock_timestamp() + make_interval(secs => ring_seconds + 5)
            WHERE w.call_id = caller.call_id;
        END IF;
        call_id := caller.call_id;
        t_index := caller.t_index;
        t_label := caller.t_label;
        RETURN NEXT;
    END LOOP;
END $$;

-- What a resumed call is to do: 'ring' with the seat's extension, or 'timeout'. The
-- transaction is no longer suspended.
CREATE FUNCTION pbx.acd_action(p_call_id text) RETURNS TABLE (action text, seat text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pbx, public, pg_temp AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(12345, 14);
    RETURN QUERY
    UPDATE waiting w SET t_index = NULL, t_label = NULL
    WHERE w.call_id = p_call_id
    RETURNING w.action, coalesce((SELECT s.extension FROM seats s WHERE s.id = w.offered_seat), '');
END $$;

-- The caller is answered, gave up, or was turned away: out of the queue. How long it waited
-- (seconds), or -1 when it was not in the queue.
CREATE FUNCTION pbx.acd_leave(p_call_id text) RETURNS double precision
LANGUAGE sql SECURITY DEFINER SET search_path = pbx, public, pg_temp AS $$
    WITH gone AS (DELETE FROM waiting WHERE call_id = p_call_id RETURNING since)
    SELECT coalesce((SELECT extract(epoch FROM clock_timestamp() - since) FROM gone), -1);
$$;

REVOKE ALL ON FUNCTION pbx.acd_join(text, text, integer, integer), pbx.acd_wait(text, bigint, bigint, text),
    pbx.acd_free_seat(text, integer), pbx.acd_ring_now(text, integer, integer),
    pbx.acd_due(integer, integer, integer), pbx.acd_action(text), pbx.acd_leave(text) FROM PUBLIC;

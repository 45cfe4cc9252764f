-- A unit's turns on tickets, kept beside the event log: one row per 派单 / 改派 / 重办 to a unit,
-- with what the rankings measure of it. Reports of a month or a year then group a few hundred
-- thousand turns instead of walking millions of events (a year's rankings took 20 s that way).
--
-- The definitions are those of db/rankings.py (its module docstring): a turn lasts from its
-- dispatch to the next one, by event order; signed, contacted and replied are the first such
-- events in the turn; returned and extended whether any happened; the outcome is the first
-- 回访's; the deadline that judges the reply is the last one set at or before the reply (while
-- not replied: the last one set), else the ticket's original deadline.
--
-- Derived data only: a trigger keeps it in step with each event as it is appended (under the
-- same transaction); rebuild_ticket_turns() derives it again from the events — after a bulk
-- load, and in tests/test_lifecycle.py to check the trigger.
CREATE TABLE ticket_turns (
    turn_id      bigint PRIMARY KEY,   -- the 派单 / 改派 / 重办 event that opened it
    ticket_id    bigint NOT NULL REFERENCES tickets (id),
    unit_code    text NOT NULL,
    at           timestamptz NOT NULL,
    signed_at    timestamptz,
    contacted_at timestamptz,
    replied_at   timestamptz,
    returned     boolean NOT NULL DEFAULT false,
    extended     boolean NOT NULL DEFAULT false,
    outcome      text,
    due_at       timestamptz NOT NULL
);
CREATE INDEX ticket_turns_at ON ticket_turns (at);
CREATE INDEX ticket_turns_ticket ON ticket_turns (ticket_id, turn_id);

CREATE FUNCTION track_ticket_turn() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    current bigint;
BEGIN
    IF NEW.kind = 'status' AND NEW.status IN ('已派单', '重办') AND NEW.unit_code IS NOT NULL THEN
        INSERT INTO ticket_turns (turn_id, ticket_id, unit_code, at, due_at)
        SELECT NEW.id, NEW.ticket_id, NEW.unit_code, NEW.at,
               coalesce((SELECT (d.payload->>'due_at')::timestamptz FROM ticket_events d
                         WHERE d.ticket_id = NEW.ticket_id AND d.kind = 'deadline'
                         ORDER BY d.id DESC LIMIT 1), t.deadline_at)
        FROM tickets t WHERE t.id = NEW.ticket_id;
        RETURN NULL;
    END IF;
    IF NEW.kind = 'deadline' THEN  -- every turn it can still judge: not replied, or replied after it
        UPDATE ticket_turns SET due_at = (NEW.payload->>'due_at')::timestamptz
        WHERE ticket_id = NEW.ticket_id AND (replied_at IS NULL OR replied_at >= NEW.at);
        RETURN NULL;
    END IF;
    SELECT max(turn_id) INTO current FROM ticket_turns WHERE ticket_id = NEW.ticket_id AND turn_id < NEW.id;
    IF current IS NULL THEN
        RETURN NULL;
    END IF;
    IF NEW.kind = 'status' AND NEW.status = '已签收' THEN
        UPDATE ticket_turns SET signed_at = least(signed_at, NEW.at) WHERE turn_id = current;  -- least skips NULL
    ELSIF NEW.kind = 'status' AND NEW.status = '已办结' THEN
        UPDATE ticket_turns SET replied_at = least(replied_at, NEW.at) WHERE turn_id = current;
    ELSIF NEW.kind = 'status' AND NEW.status = '退单' THEN
        UPDATE ticket_turns SET returned = true WHERE turn_id = current;
    ELSIF NEW.kind = 'contact' THEN
        UPDATE ticket_turns SET contacted_at = least(contacted_at, NEW.at) WHERE turn_id = current;
    ELSIF NEW.kind = 'extension_request' THEN
        UPDATE ticket_turns SET extended = true WHERE turn_id = current;
    ELSIF NEW.kind = 'visit' THEN
        UPDATE ticket_turns SET outcome = coalesce(outcome, NEW.payload->>'outcome') WHERE turn_id = current;
    END IF;
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION track_ticket_turn() FROM PUBLIC;

CREATE TRIGGER ticket_events_track_turn AFTER INSERT ON ticket_events
FOR EACH ROW WHEN (NEW.kind IN ('status', 'contact', 'extension_request', 'visit', 'deadline'))
EXECUTE FUNCTION track_ticket_turn();

-- Everything above, derived again from the events in one ordered pass.
CREATE FUNCTION rebuild_ticket_turns() RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    DELETE FROM ticket_turns;
    WITH events AS (
        SELECT e.id, e.ticket_id, e.at, e.kind, e.status, e.unit_code, e.payload,
               max(e.id) FILTER (WHERE e.kind = 'status' AND e.status IN ('已派单', '重办')
                                  AND e.unit_code IS NOT NULL)
                   OVER (PARTITION BY e.ticket_id ORDER BY e.id) AS turn_id
        FROM ticket_events e
        WHERE e.kind IN ('status', 'contact', 'extension_request', 'visit')
    ), measured AS (
        SELECT turn_id, ticket_id,
               min(at) FILTER (WHERE id = turn_id) AS at,
               min(unit_code) FILTER (WHERE id = turn_id) AS unit_code,
               min(at) FILTER (WHERE kind = 'status' AND status = '已签收') AS signed_at,
               min(at) FILTER (WHERE kind = 'contact') AS contacted_at,
               min(at) FILTER (WHERE kind = 'status' AND status = '已办结') AS replied_at,
               bool_or(kind = 'status' AND status = '退单') AS returned,
               bool_or(kind = 'extension_request') AS extended,
               (array_agg(payload->>'outcome' ORDER BY id) FILTER (WHERE kind = 'visit'))[1] AS outcome
        FROM events WHERE turn_id IS NOT NULL
        GROUP BY turn_id, ticket_id
    )
    INSERT INTO ticket_turns (turn_id, ticket_id, unit_code, at, signed_at, contacted_at, replied_at,
                              returned, extended, outcome, due_at)
    SELECT m.turn_id, m.ticket_id, m.unit_code, m.at, m.signed_at, m.contacted_at, m.replied_at,
           m.returned, m.extended, m.outcome,
           coalesce((SELECT (x.payload->>'due_at')::timestamptz FROM ticket_events x
                     WHERE x.ticket_id = m.ticket_id AND x.kind = 'deadline'
                       AND (m.replied_at IS NULL OR x.at <= m.replied_at)
                     ORDER BY x.id DESC LIMIT 1), t.deadline_at)
    FROM measured m JOIN tickets t ON t.id = m.ticket_id;
    SELECT count(*) FROM ticket_turns;
$$;
REVOKE ALL ON FUNCTION rebuild_ticket_turns() FROM PUBLIC;
SELECT rebuild_ticket_turns();

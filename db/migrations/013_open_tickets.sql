-- Open tickets as they stand, kept beside the event log: every ticket not closed yet (not
-- 已回访, 已归档 or 直办结 — the CLOSED_STATUSES of domain/vocabulary.py) with what the
-- ticket_current view derives from its events. The warning worker, the unit queues, the 督办
-- board and the 回访 list read these few thousand rows instead of deriving every ticket's state
-- from a year of events on every pass.
--
-- Derived data only: a trigger keeps it in step with each event as it is appended (under the
-- same transaction), and it is rebuilt from ticket_current at the end of this file — which is
-- also how to rebuild it after a bulk load. tests/test_city.py checks it against the view.
CREATE TABLE ticket_open (
    ticket_id         bigint PRIMARY KEY REFERENCES tickets (id),
    status            text NOT NULL,
    since             timestamptz NOT NULL,  -- of the status
    accepted_at       timestamptz NOT NULL,
    unit_code         text,                  -- the unit that holds it
    deadline          timestamptz NOT NULL,  -- in force: the latest approved, else the original
    turn_id           bigint,                -- the latest 派单 / 改派 / 重办 event
    dispatched_at     timestamptz,
    contacted_at      timestamptz,           -- the latest 联系群众
    pending_extension timestamptz,           -- asked for, not decided yet
    supervision_at    timestamptz,           -- a 督办 not answered yet: when, and answer by
    supervision_by    timestamptz,
    warning           text                   -- the worst warning of the current turn
);
CREATE INDEX ticket_open_unit ON ticket_open (unit_code, deadline);

CREATE FUNCTION track_open_ticket() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF NEW.kind = 'status' THEN
        IF NEW.status IN ('已回访', '已归档', '直办结') THEN
            DELETE FROM ticket_open WHERE ticket_id = NEW.ticket_id;
            RETURN NULL;
        END IF;
        INSERT INTO ticket_open (ticket_id, status, since, accepted_at, unit_code, deadline, turn_id,
                                 dispatched_at)
        SELECT NEW.ticket_id, NEW.status, NEW.at, t.accepted_at, NEW.unit_code, t.deadline_at,
               CASE WHEN NEW.status IN ('已派单', '重办') THEN NEW.id END,
               CASE WHEN NEW.status IN ('已派单', '重办') THEN NEW.at END
        FROM tickets t WHERE t.id = NEW.ticket_id
        ON CONFLICT (ticket_id) DO UPDATE SET
            status = EXCLUDED.status, since = EXCLUDED.since,
            unit_code = coalesce(EXCLUDED.unit_code, ticket_open.unit_code),
            turn_id = coalesce(EXCLUDED.turn_id, ticket_open.turn_id),
            dispatched_at = coalesce(EXCLUDED.dispatched_at, ticket_open.dispatched_at),
            warning = CASE WHEN EXCLUDED.turn_id IS NULL THEN ticket_open.warning END;
    ELSIF NEW.kind = 'contact' THEN
        UPDATE ticket_open SET contacted_at = NEW.at WHERE ticket_id = NEW.ticket_id;
    ELSIF NEW.kind = 'deadline' THEN
        UPDATE ticket_open SET deadline = (NEW.payload->>'due_at')::timestamptz WHERE ticket_id = NEW.ticket_id;
    ELSIF NEW.kind = 'extension_request' THEN
        UPDATE ticket_open SET pending_extension = (NEW.payload->>'due_at')::timestamptz
        WHERE ticket_id = NEW.ticket_id;
    ELSIF NEW.kind = 'extension_decision' THEN
        UPDATE ticket_open SET pending_extension = NULL WHERE ticket_id = NEW.ticket_id;
    ELSIF NEW.kind = 'supervision' THEN
        UPDATE ticket_open SET supervision_at = NEW.at,
                               supervision_by = (NEW.payload->>'answer_by')::timestamptz
        WHERE ticket_id = NEW.ticket_id;
    ELSIF NEW.kind = 'supervision_reply' THEN
        UPDATE ticket_open SET supervision_at = NULL, supervision_by = NULL WHERE ticket_id = NEW.ticket_id;
    ELSIF NEW.kind = 'warning' THEN
        UPDATE ticket_open SET warning = CASE
                WHEN 'red' IN (warning, NEW.payload->>'level') THEN 'red'
                WHEN 'orange' IN (warning, NEW.payload->>'level') THEN 'orange'
                ELSE 'yellow' END
        WHERE ticket_id = NEW.ticket_id;
    END IF;
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION track_open_ticket() FROM PUBLIC;

CREATE TRIGGER ticket_events_track_open AFTER INSERT ON ticket_events
FOR EACH ROW WHEN (NEW.kind IN ('status', 'contact', 'deadline', 'extension_request', 'extension_decision',
                                'supervision', 'supervision_reply', 'warning'))
EXECUTE FUNCTION track_open_ticket();

-- Everything above, derived again from the events (after a bulk load, or to check the trigger).
CREATE FUNCTION rebuild_open_tickets() RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    DELETE FROM ticket_open;
    INSERT INTO ticket_open (ticket_id, status, since, accepted_at, unit_code, deadline, turn_id, dispatched_at,
                             contacted_at, pending_extension, supervision_at, supervision_by, warning)
    SELECT c.ticket_id, c.status, s.status_at, t.accepted_at, c.unit_code, c.deadline, c.turn_id, c.dispatched_at,
           (SELECT max(e.at) FROM ticket_events e WHERE e.ticket_id = c.ticket_id AND e.kind = 'contact'),
           c.pending_extension,
           CASE WHEN c.supervision_by IS NOT NULL THEN
               (SELECT e.at FROM ticket_events e WHERE e.ticket_id = c.ticket_id AND e.kind = 'supervision'
                ORDER BY e.id DESC LIMIT 1) END,
           c.supervision_by, c.warning
    FROM ticket_current c JOIN ticket_status s ON s.ticket_id = c.ticket_id JOIN tickets t ON t.id = c.ticket_id
    WHERE c.status NOT IN ('已回访', '已归档', '直办结');
    SELECT count(*) FROM ticket_open;
$$;
REVOKE ALL ON FUNCTION rebuild_open_tickets() FROM PUBLIC;
SELECT rebuild_open_tickets();

-- Rankings start from the dispatches of a period.
CREATE INDEX ticket_events_dispatch_at ON ticket_events (at)
    WHERE kind = 'status' AND status IN ('已派单', '重办');

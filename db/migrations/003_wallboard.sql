-- Live feeds for the wallboard: heartbeats, and call activity that changes today's figures.
-- Payloads are small; listeners read the rest when they need it.  Tickets send nothing:
-- NOTIFY serialises commits, and the ticket path must stay fast; a saved ticket shows up
-- with the seat event that follows it (话后整理 → 就绪).
CREATE FUNCTION notify_heartbeat() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('seat_heartbeats', json_build_object('seat_id', NEW.seat_id, 'at', NEW.at)::text);
    RETURN NEW;
END $$;
CREATE TRIGGER seat_heartbeats_notify AFTER INSERT OR UPDATE ON seat_heartbeats
    FOR EACH ROW EXECUTE FUNCTION notify_heartbeat();

CREATE FUNCTION notify_activity() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('hotline_activity', json_build_object('table', TG_TABLE_NAME, 'id', NEW.id)::text);
    RETURN NEW;
END $$;
CREATE TRIGGER calls_notify AFTER INSERT OR UPDATE ON calls
    FOR EACH ROW EXECUTE FUNCTION notify_activity();

CREATE INDEX calls_seat_open ON calls (seat_id) WHERE end_at IS NULL;
CREATE INDEX tickets_seat_day ON tickets (seat_id, accepted_at);

-- Append-only everywhere it matters, and seats that close themselves when their console dies.

-- TRUNCATE is refused on every audited table (tickets and ticket_events refused it already).
CREATE TRIGGER seat_events_no_truncate BEFORE TRUNCATE ON seat_events
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER qa_scores_no_truncate BEFORE TRUNCATE ON qa_scores
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER calls_no_truncate BEFORE TRUNCATE ON calls
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER calls_no_delete BEFORE DELETE ON calls
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- Why a call ended when nobody hung up properly (a console that died, audio that stopped).
ALTER TABLE calls ADD COLUMN end_reason text CHECK (length(end_reason) <= 200);

-- A call is filled in as it happens and then stays as it was: each column is written once
-- (from NULL to a value, or to the value it has), and the transcript only grows at its end.
CREATE FUNCTION calls_write_once() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    kept integer := jsonb_array_length(OLD.transcript);
BEGIN
    IF NEW.id <> OLD.id OR NEW.seat_id IS DISTINCT FROM OLD.seat_id
       OR NEW.agent_id IS DISTINCT FROM OLD.agent_id OR NEW.caller_number <> OLD.caller_number
       OR NEW.ring_at <> OLD.ring_at
       OR (OLD.answer_at IS NOT NULL AND NEW.answer_at IS DISTINCT FROM OLD.answer_at)
       OR (OLD.end_at IS NOT NULL AND NEW.end_at IS DISTINCT FROM OLD.end_at)
       OR (OLD.end_reason IS NOT NULL AND NEW.end_reason IS DISTINCT FROM OLD.end_reason)
       OR (OLD.recording_path IS NOT NULL AND NEW.recording_path IS DISTINCT FROM OLD.recording_path)
       OR (OLD.recording_seconds IS NOT NULL AND NEW.recording_seconds IS DISTINCT FROM OLD.recording_seconds)
       OR jsonb_array_length(NEW.transcript) < kept
       OR coalesce((SELECT jsonb_agg(e ORDER BY i) FROM jsonb_array_elements(NEW.transcript)
                    WITH ORDINALITY AS u(e, i) WHERE i <= kept), '[]'::jsonb) <> OLD.transcript
    THEN
        RAISE EXCEPTION 'calls: call % is written once; what was recorded cannot be changed', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER calls_write_once BEFORE UPDATE ON calls
    FOR EACH ROW EXECUTE FUNCTION calls_write_once();

-- Whoever notices first (a console's heartbeat, the wallboard's tick) closes the seats whose
-- console stopped beating: the seat goes 离线 with the reason, its open call ends at the last
-- heartbeat with the reason. Serialised, so two noticers never close a seat twice.
CREATE FUNCTION close_silent_seats(silent_for interval) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    seat record;
    closed integer := 0;
BEGIN
    PERFORM pg_advisory_xact_lock(12345, 1);
    FOR seat IN
        SELECT h.seat_id, h.agent_id, h.at AS last_beat
        FROM seat_heartbeats h
        JOIN LATERAL (SELECT state FROM seat_events e WHERE e.seat_id = h.seat_id
                      ORDER BY e.id DESC LIMIT 1) latest ON true
        WHERE latest.state <> '离线' AND h.at < now() - silent_for
    LOOP
        UPDATE calls SET end_at = greatest(seat.last_beat, coalesce(answer_at, ring_at)),
                         end_reason = '座席心跳中断，通话由系统结束'
            WHERE seat_id = seat.seat_id AND end_at IS NULL;
        INSERT INTO seat_events (seat_id, agent_id, state, reason)
            VALUES (seat.seat_id, seat.agent_id, '离线', '心跳中断');
        closed := closed + 1;
    END LOOP;
    RETURN closed;
END $$;

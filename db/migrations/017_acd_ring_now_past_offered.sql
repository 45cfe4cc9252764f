-- A caller that joins rings a free seat at once unless an earlier caller still waits for a
-- seat. Earlier callers that have been offered one (their seat is ringing) no longer hold the
-- newcomer back: in a burst of calls each rings at once, instead of waiting for the
-- dispatcher's next round (200 ms) behind a call that is merely ringing.
CREATE OR REPLACE FUNCTION pbx.acd_ring_now(p_call_id text, ring_seconds integer, alive_seconds integer) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pbx, public, pg_temp AS $$
DECLARE
    seat integer;
BEGIN
    PERFORM pg_advisory_xact_lock(12345, 14);
    IF EXISTS (SELECT 1 FROM waiting o, waiting me WHERE me.call_id = p_call_id AND o.call_id <> me.call_id
               AND o.since <= me.since AND o.offered_seat IS NULL) THEN
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

-- A call's transcript or recording is corrected by a new row, never by changing the call:
-- the latest correction of a field is what readers see, the original stays as it was heard.
CREATE TABLE call_corrections (
    id            bigserial PRIMARY KEY,
    call_id       bigint NOT NULL REFERENCES calls(id),
    field         text NOT NULL CHECK (field IN ('transcript', 'recording_path')),
    value         jsonb NOT NULL,
    reason        text NOT NULL CHECK (length(reason) BETWEEN 1 AND 200),
    corrected_by  text NOT NULL CHECK (length(corrected_by) BETWEEN 1 AND 32),
    at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX call_corrections_call ON call_corrections (call_id, field, id DESC);
CREATE TRIGGER call_corrections_append_only BEFORE UPDATE OR DELETE ON call_corrections
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER call_corrections_no_truncate BEFORE TRUNCATE ON call_corrections
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- Calls as they stand after their corrections.
CREATE VIEW calls_corrected AS
SELECT c.id, c.seat_id, c.agent_id, c.caller_number, c.ring_at, c.answer_at, c.end_at, c.end_reason,
       coalesce((SELECT value #>> '{}' FROM call_corrections k
                 WHERE k.call_id = c.id AND k.field = 'recording_path' ORDER BY k.id DESC LIMIT 1),
                c.recording_path) AS recording_path,
       c.recording_seconds,
       coalesce((SELECT value FROM call_corrections k
                 WHERE k.call_id = c.id AND k.field = 'transcript' ORDER BY k.id DESC LIMIT 1),
                c.transcript) AS transcript
FROM calls c;

-- What inspectors read: the corrected call, masked.
CREATE OR REPLACE VIEW inspection_calls AS
SELECT c.id, c.seat_id, c.agent_id, mask_text(c.caller_number) AS caller_number, c.ring_at, c.answer_at,
       c.end_at, c.end_reason, c.recording_path, c.recording_seconds,
       coalesce((SELECT jsonb_agg(jsonb_set(u, '{text}', to_jsonb(mask_text(u->>'text'))) ORDER BY i)
                 FROM jsonb_array_elements(c.transcript) WITH ORDINALITY AS x(u, i)), '[]'::jsonb) AS transcript
FROM calls_corrected c;

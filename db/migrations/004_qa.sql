-- Quality inspection: the day's sample of calls, and scorecards (append-only: a correction
-- is a new score that names the one it corrects).
CREATE TABLE qa_samples (
    id           bigserial PRIMARY KEY,
    sample_date  date NOT NULL,
    call_id      bigint NOT NULL REFERENCES calls(id),
    reasons      text[] NOT NULL,
    drawn_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (sample_date, call_id)
);

CREATE TABLE qa_scores (
    id           bigserial PRIMARY KEY,
    call_id      bigint NOT NULL REFERENCES calls(id),
    inspector    text NOT NULL CHECK (length(inspector) BETWEEN 1 AND 32),
    rubric       text NOT NULL,
    items        jsonb NOT NULL,
    total        numeric NOT NULL,
    max_total    numeric NOT NULL,
    comment      text NOT NULL DEFAULT '' CHECK (length(comment) <= 2000),
    corrects_id  bigint REFERENCES qa_scores(id),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX qa_scores_call ON qa_scores (call_id, id);
CREATE TRIGGER qa_scores_append_only BEFORE UPDATE OR DELETE ON qa_scores
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

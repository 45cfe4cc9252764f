-- Least privilege: application roles (db/roles.py) get no more than their work needs.
-- Functions that must do more than their caller may (create a day's ticket-number sequence,
-- close a silent seat) run with their owner's rights, on a fixed search path.
ALTER FUNCTION next_ticket_no(date) SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION close_silent_seats(interval) SECURITY DEFINER SET search_path = public, pg_temp;

-- Masking in the database, as domain/privacy.py does it: a run of digits (ASCII, full-width
-- or spoken, single spaces or dashes between them) that is a mobile keeps its first 3 and
-- last 4, a landline its area code and last 4, an ID card its first 6 and last 4.
CREATE FUNCTION mask_digit(ch text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN ch BETWEEN '0' AND '9' THEN ch
        WHEN ch BETWEEN '０' AND '９' THEN chr(ascii(ch) - 65248)
        ELSE substr('00011223456789', nullif(strpos('零〇○幺一二两三四五六七八九', ch), 0), 1)
    END
$$;

CREATE FUNCTION mask_text(t text) RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    chars text[] := regexp_split_to_array(coalesce(t, ''), '');
    n integer := coalesce(array_length(chars, 1), 0);
    i integer := 1;
    digits text;
    positions integer[];
    d text;
    len integer;
    first_hidden integer;
    last_hidden integer;
    k integer;
BEGIN
    IF t IS NULL THEN
        RETURN NULL;
    END IF;
    WHILE i <= n LOOP
        IF mask_digit(chars[i]) IS NULL THEN
            i := i + 1;
            CONTINUE;
        END IF;
        digits := '';
        positions := '{}';
        WHILE i <= n LOOP
            d := mask_digit(chars[i]);
            IF d IS NOT NULL THEN
                digits := digits || d;
                positions := positions || i;
                i := i + 1;
            ELSIF chars[i] IN (' ', '-', '－', '—', '–', '·', '　') AND i < n AND mask_digit(chars[i + 1]) IS NOT NULL THEN
                i := i + 1;
            ELSIF chars[i] IN ('X', 'x') AND length(digits) = 17 THEN
                digits := digits || 'X';
                positions := positions || i;
                i := i + 1;
                EXIT;
            ELSE
                EXIT;
            END IF;
        END LOOP;
        len := length(digits);
        first_hidden := NULL;
        IF len = 13 AND digits LIKE '861%' AND substr(digits, 4, 1) BETWEEN '3' AND '9' THEN
            first_hidden := 6; last_hidden := 9;
        ELSIF len = 11 AND digits LIKE '1%' AND substr(digits, 2, 1) BETWEEN '3' AND '9' THEN
            first_hidden := 4; last_hidden := 7;
        ELSIF len = 18 AND substr(digits, 1, 1) BETWEEN '1' AND '9' AND substr(digits, 1, 17) ~ '^[0-9]+$' THEN
            first_hidden := 7; last_hidden := 14;
        ELSIF len BETWEEN 10 AND 12 AND digits LIKE '0%' THEN
            first_hidden := CASE WHEN substr(digits, 2, 1) IN ('1', '2') THEN 4 ELSE 5 END;
            last_hidden := len - 4;
        END IF;
        IF first_hidden IS NOT NULL THEN
            FOR k IN first_hidden .. last_hidden LOOP
                chars[positions[k]] := '*';
            END LOOP;
        END IF;
    END LOOP;
    RETURN array_to_string(chars, '');
END $$;

-- What quality inspectors read: calls and tickets with every number masked.
CREATE VIEW inspection_calls AS
SELECT c.id, c.seat_id, c.agent_id, mask_text(c.caller_number) AS caller_number, c.ring_at, c.answer_at,
       c.end_at, c.end_reason, c.recording_path, c.recording_seconds,
       coalesce((SELECT jsonb_agg(jsonb_set(u, '{text}', to_jsonb(mask_text(u->>'text'))) ORDER BY i)
                 FROM jsonb_array_elements(c.transcript) WITH ORDINALITY AS x(u, i)), '[]'::jsonb) AS transcript
FROM calls c;

CREATE VIEW inspection_tickets AS
SELECT t.id, t.ticket_no, t.call_id, t.accepted_at, t.ticket_type, t.urgency, t.handling_mode,
       t.category_code, mask_text(t.caller_number) AS caller_number, t.address_code,
       mask_text(t.address_text) AS address_text, mask_text(t.content) AS content, t.unit_code,
       t.kb_article_id, t.seat_id, t.agent_id, s.status, g.compound, g.road, g.community
FROM tickets t
JOIN ticket_status s ON s.ticket_id = t.id
LEFT JOIN gazetteer_addresses g ON g.address_code = t.address_code;

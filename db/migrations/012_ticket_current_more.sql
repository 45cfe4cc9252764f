-- ticket_current also says what waits on the ticket, so no query spells it again: the due date
-- a unit asked for and nobody decided yet, the answer-by time of a 督办 not yet answered, and
-- the worst warning fired in the current turn.
CREATE OR REPLACE VIEW ticket_current AS
SELECT t.id AS ticket_id, s.status,
       (SELECT e.unit_code FROM ticket_events e WHERE e.ticket_id = t.id AND e.kind = 'status'
          AND e.unit_code IS NOT NULL ORDER BY e.id DESC LIMIT 1) AS unit_code,
       coalesce((SELECT (e.payload->>'due_at')::timestamptz FROM ticket_events e
                 WHERE e.ticket_id = t.id AND e.kind = 'deadline' ORDER BY e.id DESC LIMIT 1),
                t.deadline_at) AS deadline,
       d.id AS turn_id, d.at AS dispatched_at,
       (SELECT (e.payload->>'due_at')::timestamptz FROM ticket_events e
        WHERE e.ticket_id = t.id AND e.kind = 'extension_request'
          AND NOT EXISTS (SELECT 1 FROM ticket_events x WHERE x.ticket_id = t.id
                          AND x.kind = 'extension_decision' AND x.id > e.id)
        ORDER BY e.id DESC LIMIT 1) AS pending_extension,
       (SELECT (e.payload->>'answer_by')::timestamptz FROM ticket_events e
        WHERE e.ticket_id = t.id AND e.kind = 'supervision'
          AND NOT EXISTS (SELECT 1 FROM ticket_events r WHERE r.ticket_id = t.id
                          AND r.kind = 'supervision_reply' AND r.id > e.id)
        ORDER BY e.id DESC LIMIT 1) AS supervision_by,
       (SELECT w.payload->>'level' FROM ticket_events w
        WHERE w.ticket_id = t.id AND w.kind = 'warning' AND w.id > d.id
        ORDER BY CASE w.payload->>'level' WHEN 'red' THEN 3 WHEN 'orange' THEN 2 ELSE 1 END DESC
        LIMIT 1) AS warning
FROM tickets t
JOIN ticket_status s ON s.ticket_id = t.id
LEFT JOIN LATERAL (SELECT e.id, e.at FROM ticket_events e WHERE e.ticket_id = t.id AND e.kind = 'status'
                     AND e.status IN ('已派单', '重办') ORDER BY e.id DESC LIMIT 1) d ON true;

-- A ticket as it stands, defined once: its status, the unit that holds it, the deadline in
-- force (the latest approved extension, else the original), and its current turn (the latest
-- 派单, 改派 or 重办).
CREATE VIEW ticket_current AS
SELECT t.id AS ticket_id, s.status,
       (SELECT e.unit_code FROM ticket_events e WHERE e.ticket_id = t.id AND e.kind = 'status'
          AND e.unit_code IS NOT NULL ORDER BY e.id DESC LIMIT 1) AS unit_code,
       coalesce((SELECT (e.payload->>'due_at')::timestamptz FROM ticket_events e
                 WHERE e.ticket_id = t.id AND e.kind = 'deadline' ORDER BY e.id DESC LIMIT 1),
                t.deadline_at) AS deadline,
       d.id AS turn_id, d.at AS dispatched_at
FROM tickets t
JOIN ticket_status s ON s.ticket_id = t.id
LEFT JOIN LATERAL (SELECT e.id, e.at FROM ticket_events e WHERE e.ticket_id = t.id AND e.kind = 'status'
                     AND e.status IN ('已派单', '重办') ORDER BY e.id DESC LIMIT 1) d ON true;

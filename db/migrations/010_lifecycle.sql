-- The ticket's life after the call (domain/lifecycle.py): more kinds of events, the 重办
-- status, and warnings that fire once per ticket, timer, level and due time.
ALTER TABLE ticket_events DROP CONSTRAINT ticket_events_kind_check;
ALTER TABLE ticket_events ADD CONSTRAINT ticket_events_kind_check CHECK (kind IN (
    'status', 'note', 'correction', 'contact', 'extension_request', 'extension_decision',
    'deadline', 'visit', 'supervision', 'supervision_reply', 'warning'));
ALTER TABLE ticket_events DROP CONSTRAINT ticket_events_status_check;
ALTER TABLE ticket_events ADD CONSTRAINT ticket_events_status_check CHECK (status IN (
    '受理', '已派单', '已签收', '办理中', '已办结', '已回访', '已归档', '退单', '重办', '直办结'));

-- Two workers, or one restarted, never fire the same warning twice.
CREATE UNIQUE INDEX ticket_warnings_once ON ticket_events
    (ticket_id, (payload->>'timer'), (payload->>'level'), (payload->>'due_at'))
    WHERE kind = 'warning';
CREATE INDEX ticket_events_kind ON ticket_events (kind, ticket_id) WHERE kind <> 'status';

-- One vocabulary (domain/vocabulary.py): the channel a ticket came in by is checked like
-- its type, urgency and handling mode.
ALTER TABLE tickets ADD CONSTRAINT tickets_channel_check
    CHECK (channel IN ('电话', '网站', '微信', '短信', 'APP'));

-- J2S support tickets.
CREATE TABLE IF NOT EXISTS tickets (
    ticket_id       text PRIMARY KEY,
    customer_id     text,
    requester_email text,
    requester_phone text,
    requester_name  text,
    subject_line    text NOT NULL,
    opened_at       timestamptz NOT NULL,
    restricted      boolean NOT NULL DEFAULT false
);
INSERT INTO tickets (ticket_id, customer_id, requester_email, requester_phone, requester_name, subject_line, opened_at, restricted) VALUES
    ('J2S-T-1', 'C-ADA-001', 'ada@example.org', '+2250700000001', 'Ada Lovelace', 'Invoice question', '2025-04-04T09:00:00Z', false)
ON CONFLICT (ticket_id) DO UPDATE SET customer_id = EXCLUDED.customer_id, requester_email = EXCLUDED.requester_email, requester_phone = EXCLUDED.requester_phone, requester_name = EXCLUDED.requester_name, subject_line = EXCLUDED.subject_line, opened_at = EXCLUDED.opened_at, restricted = EXCLUDED.restricted;
-- Retention (support 5 years): when each ticket closed; one closed more than 5 years ago.
ALTER TABLE tickets ADD COLUMN IF NOT EXISTS closed_at timestamptz;
UPDATE tickets SET closed_at = '2025-04-10T12:00:00Z' WHERE ticket_id = 'J2S-T-1';
INSERT INTO tickets (ticket_id, customer_id, requester_email, requester_name, subject_line, opened_at, closed_at) VALUES
    ('J2S-T-0', 'C-J2S-003', 'lucien@example.org', 'Lucien Bernard', 'Contract termination', '2014-11-02T10:00:00Z', '2015-01-15T16:00:00Z')
ON CONFLICT (ticket_id) DO UPDATE SET customer_id = EXCLUDED.customer_id, requester_email = EXCLUDED.requester_email, requester_name = EXCLUDED.requester_name, subject_line = EXCLUDED.subject_line, opened_at = EXCLUDED.opened_at, closed_at = EXCLUDED.closed_at;

-- UPJUNOO support desk: tickets opened from the app.
CREATE TABLE IF NOT EXISTS tickets (
    ticket_id       text PRIMARY KEY,
    customer_id     text,
    requester_email text,
    requester_phone text,
    requester_name  text,
    subject_line    text NOT NULL,
    body            text,
    opened_at       timestamptz NOT NULL
);
INSERT INTO tickets (ticket_id, customer_id, requester_email, requester_phone, requester_name, subject_line, body, opened_at) VALUES
    ('T-1001', 'C-ADA-001', 'ada@example.org',   '+2250700000001', 'Ada Lovelace', 'Driver late',      'My driver arrived 25 minutes late at Cocody.', '2025-06-14T19:40:00Z'),
    ('T-1002', 'C-ADA-001', 'ada@example.org',   '+2250700000001', 'Ada Lovelace', 'Refund request',   'Please refund invoice UPJ-2025-0002.',       '2025-06-15T10:00:00Z'),
    ('T-1003', 'C-BRU-002', 'bruno@example.org', '+2430810000002', 'Bruno Kabila', 'App crash',        'The app closes when I open my orders.',      '2025-07-02T08:00:00Z')
ON CONFLICT (ticket_id) DO UPDATE SET customer_id = EXCLUDED.customer_id, requester_email = EXCLUDED.requester_email, requester_phone = EXCLUDED.requester_phone, requester_name = EXCLUDED.requester_name, subject_line = EXCLUDED.subject_line, body = EXCLUDED.body, opened_at = EXCLUDED.opened_at;
ALTER TABLE tickets ADD COLUMN IF NOT EXISTS restricted boolean NOT NULL DEFAULT false;
UPDATE tickets SET restricted = false WHERE ticket_id IN ('T-1001', 'T-1002', 'T-1003');

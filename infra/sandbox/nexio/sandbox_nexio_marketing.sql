-- Nexio promotional mailing list (asynchronous, confirms on Kafka).
CREATE TABLE IF NOT EXISTS contacts (
    contact_id     text PRIMARY KEY,
    email          text,
    phone          text,
    advertising_id text,
    purposes       text[] NOT NULL,
    opted_in_at    timestamptz NOT NULL,
    restricted     boolean NOT NULL DEFAULT false
);
-- Subjects who withdrew consent or objected: an import must not add them again.
CREATE TABLE IF NOT EXISTS suppressions (
    identity      text NOT NULL,
    value         text NOT NULL,
    suppressed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (identity, value)
);
CREATE TABLE IF NOT EXISTS processed_tasks (
    task_id      text PRIMARY KEY,
    outcome      text NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO contacts (contact_id, email, phone, advertising_id, purposes, opted_in_at, restricted) VALUES
    ('M-C-ADA-001', 'ada@example.org', '+2250700000001', NULL, ARRAY['marketing', 'newsletter'], '2024-03-01T09:05:00Z', false),
    ('M-C-NEX-002', 'lotte@example.org', '+31600000002', NULL, ARRAY['marketing', 'newsletter'], '2024-03-01T09:05:00Z', false)
ON CONFLICT (contact_id) DO UPDATE SET email = EXCLUDED.email, phone = EXCLUDED.phone, advertising_id = EXCLUDED.advertising_id, purposes = EXCLUDED.purposes, opted_in_at = EXCLUDED.opted_in_at, restricted = EXCLUDED.restricted;

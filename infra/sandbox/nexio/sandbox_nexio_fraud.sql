-- Nexio fraud-prevention data.
CREATE TABLE IF NOT EXISTS signals (
    signal_id  text PRIMARY KEY,
    email      text NOT NULL,
    ip_address text,
    behaviour  text,
    seen_at    timestamptz NOT NULL,
    restricted boolean NOT NULL DEFAULT false
);
INSERT INTO signals (signal_id, email, ip_address, behaviour, seen_at, restricted) VALUES
    ('NEX-F-1', 'ada@example.org', '203.0.113.5', '12 searches, 1 purchase', '2026-09-01T10:00:00Z', false)
ON CONFLICT (signal_id) DO UPDATE SET email = EXCLUDED.email, ip_address = EXCLUDED.ip_address, behaviour = EXCLUDED.behaviour, seen_at = EXCLUDED.seen_at, restricted = EXCLUDED.restricted;

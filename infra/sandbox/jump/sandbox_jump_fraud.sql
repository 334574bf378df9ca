-- Jump fraud-prevention signals.
CREATE TABLE IF NOT EXISTS signals (
    signal_id  text PRIMARY KEY,
    email      text NOT NULL,
    ip_address text,
    score      integer NOT NULL,
    seen_at    timestamptz NOT NULL,
    restricted boolean NOT NULL DEFAULT false
);
INSERT INTO signals (signal_id, email, ip_address, score, seen_at, restricted) VALUES
    ('JMP-F-1', 'ada@example.org', '192.0.2.10', 12, '2025-06-12T08:59:00Z', false)
ON CONFLICT (signal_id) DO UPDATE SET email = EXCLUDED.email, ip_address = EXCLUDED.ip_address, score = EXCLUDED.score, seen_at = EXCLUDED.seen_at, restricted = EXCLUDED.restricted;

-- J2S connection logs (kept 12 months).
CREATE TABLE IF NOT EXISTS connections (
    connection_id text PRIMARY KEY,
    customer_id   text,
    email         text NOT NULL,
    ip_address    text NOT NULL,
    connected_at  timestamptz NOT NULL,
    restricted    boolean NOT NULL DEFAULT false
);
INSERT INTO connections (connection_id, customer_id, email, ip_address, connected_at, restricted) VALUES
    ('J2S-L-1', 'C-ADA-001', 'ada@example.org', '198.51.100.7', '2026-10-01T08:00:00Z', false)
ON CONFLICT (connection_id) DO UPDATE SET customer_id = EXCLUDED.customer_id, email = EXCLUDED.email, ip_address = EXCLUDED.ip_address, connected_at = EXCLUDED.connected_at, restricted = EXCLUDED.restricted;
-- Retention (12 months from each log's own date): logs older than that, which the schedule erases.
INSERT INTO connections (connection_id, customer_id, email, ip_address, connected_at, restricted) VALUES
    ('J2S-L-0', 'C-ADA-001', 'ada@example.org', '198.51.100.7', '2025-06-12T07:45:00Z', false),
    ('J2S-L-2', 'C-J2S-002', 'camille@example.org', '203.0.113.9', '2025-03-03T21:10:00Z', false)
ON CONFLICT (connection_id) DO UPDATE SET customer_id = EXCLUDED.customer_id, email = EXCLUDED.email, ip_address = EXCLUDED.ip_address, connected_at = EXCLUDED.connected_at, restricted = EXCLUDED.restricted;

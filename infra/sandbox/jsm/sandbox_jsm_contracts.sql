-- JSM service contracts.
CREATE TABLE IF NOT EXISTS contracts (
    contract_id text PRIMARY KEY,
    customer_id text NOT NULL,
    email       text NOT NULL,
    phone       text,
    service     text NOT NULL,
    started_at  timestamptz NOT NULL,
    ended_at    timestamptz,
    restricted  boolean NOT NULL DEFAULT false
);
INSERT INTO contracts (contract_id, customer_id, email, phone, service, started_at, ended_at, restricted) VALUES
    ('JSM-K-1', 'C-ADA-001', 'ada@example.org', '+2250700000001', 'fibre 1 Gb', '2023-01-01T00:00:00Z', '2025-12-31T00:00:00Z', false)
ON CONFLICT (contract_id) DO UPDATE SET customer_id = EXCLUDED.customer_id, email = EXCLUDED.email, phone = EXCLUDED.phone, service = EXCLUDED.service, started_at = EXCLUDED.started_at, ended_at = EXCLUDED.ended_at, restricted = EXCLUDED.restricted;

-- Nexio purchases.
CREATE TABLE IF NOT EXISTS transactions (
    transaction_id text PRIMARY KEY,
    customer_id    text NOT NULL,
    email          text NOT NULL,
    phone          text,
    amount_cents   integer NOT NULL,
    bought_at      timestamptz NOT NULL,
    restricted     boolean NOT NULL DEFAULT false
);
INSERT INTO transactions (transaction_id, customer_id, email, phone, amount_cents, bought_at, restricted) VALUES
    ('NEX-T-1', 'C-ADA-001', 'ada@example.org', '+2250700000001', 120000, '2025-09-01T10:00:00Z', false)
ON CONFLICT (transaction_id) DO UPDATE SET customer_id = EXCLUDED.customer_id, email = EXCLUDED.email, phone = EXCLUDED.phone, amount_cents = EXCLUDED.amount_cents, bought_at = EXCLUDED.bought_at, restricted = EXCLUDED.restricted;

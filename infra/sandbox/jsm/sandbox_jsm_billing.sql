-- JSM invoices.
CREATE TABLE IF NOT EXISTS invoices (
    invoice_no    text PRIMARY KEY,
    customer_id   text NOT NULL,
    billing_email text NOT NULL,
    billing_phone text,
    amount_cents  integer NOT NULL,
    currency      text NOT NULL,
    issued_at     timestamptz NOT NULL,
    delivery_note text,
    restricted    boolean NOT NULL DEFAULT false
);
INSERT INTO invoices (invoice_no, customer_id, billing_email, billing_phone, amount_cents, currency, issued_at, delivery_note, restricted) VALUES
    ('JSM-2025-001', 'C-ADA-001', 'ada@example.org', '+2250700000001', 4999, 'EUR', '2025-02-01T00:00:00Z', NULL, false)
ON CONFLICT (invoice_no) DO UPDATE SET customer_id = EXCLUDED.customer_id, billing_email = EXCLUDED.billing_email, billing_phone = EXCLUDED.billing_phone, amount_cents = EXCLUDED.amount_cents, currency = EXCLUDED.currency, issued_at = EXCLUDED.issued_at, delivery_note = EXCLUDED.delivery_note, restricted = EXCLUDED.restricted;

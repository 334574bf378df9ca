-- UPJUNOO billing: invoices, kept for the legal accounting period.
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
    ('UPJ-2025-0001', 'C-ADA-001', 'ada@example.org',   '+2250700000001', 350000, 'XOF', '2025-03-02T08:10:00Z', 'gate code 4411', false),
    ('UPJ-2025-0002', 'C-ADA-001', 'ada@example.org',   '+2250700000001', 125000, 'XOF', '2025-06-14T19:22:00Z', 'leave with the guard', false),
    ('UPJ-2025-0003', 'C-BRU-002', 'bruno@example.org', '+2430810000002',  42000, 'CDF', '2025-07-01T12:00:00Z', NULL, false),
    ('UPJ-2025-0004', 'C-CHL-003', 'chloe@example.org', '+15145550003',     2599, 'CAD', '2025-08-09T17:05:00Z', NULL, false)
ON CONFLICT (invoice_no) DO UPDATE SET customer_id = EXCLUDED.customer_id, billing_email = EXCLUDED.billing_email, billing_phone = EXCLUDED.billing_phone, amount_cents = EXCLUDED.amount_cents, currency = EXCLUDED.currency, issued_at = EXCLUDED.issued_at, delivery_note = EXCLUDED.delivery_note, restricted = EXCLUDED.restricted;

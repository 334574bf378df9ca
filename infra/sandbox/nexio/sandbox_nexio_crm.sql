-- Nexio customer relationship data.
-- Seeding resets the demo people to this state (ON CONFLICT DO UPDATE), so it can run again.
INSERT INTO customers (customer_id, email, phone, full_name, country, created_at, restricted, marketing_opt_out, processing_objected) VALUES
    ('C-ADA-001', 'ada@example.org', '+2250700000001', 'Ada Lovelace', 'BE', '2024-03-01T09:00:00Z', false, false, false),
    ('C-NEX-002', 'lotte@example.org', '+31600000002', 'Lotte de Vries', 'NL', '2024-03-01T09:00:00Z', false, false, false)
ON CONFLICT (customer_id) DO UPDATE SET email = EXCLUDED.email, phone = EXCLUDED.phone, full_name = EXCLUDED.full_name, country = EXCLUDED.country, created_at = EXCLUDED.created_at, restricted = EXCLUDED.restricted, marketing_opt_out = EXCLUDED.marketing_opt_out, processing_objected = EXCLUDED.processing_objected;
-- Retention (contact notes kept while the customer is active): when a customer relationship
-- ended, and contact notes of an active and of a former customer.
ALTER TABLE customers ADD COLUMN IF NOT EXISTS relationship_ended_at timestamptz;
INSERT INTO customers (customer_id, email, phone, full_name, country, created_at, relationship_ended_at) VALUES
    ('C-NEX-003', 'sem@example.org', '+31600000003', 'Sem Jansen', 'NL', '2021-01-10T09:00:00Z', '2025-09-30T00:00:00Z')
ON CONFLICT (customer_id) DO UPDATE SET email = EXCLUDED.email, phone = EXCLUDED.phone, full_name = EXCLUDED.full_name, country = EXCLUDED.country, created_at = EXCLUDED.created_at, relationship_ended_at = EXCLUDED.relationship_ended_at;
CREATE TABLE IF NOT EXISTS contact_notes (
    note_id     text PRIMARY KEY,
    customer_id text NOT NULL,
    note        text NOT NULL,
    written_at  timestamptz NOT NULL
);
INSERT INTO contact_notes (note_id, customer_id, note, written_at) VALUES
    ('NEX-N-1', 'C-ADA-001', 'Called about a delayed order; refund offered.', '2026-09-14T10:00:00Z'),
    ('NEX-N-2', 'C-NEX-003', 'Asked to close the account.', '2025-09-28T09:30:00Z')
ON CONFLICT (note_id) DO UPDATE SET customer_id = EXCLUDED.customer_id, note = EXCLUDED.note, written_at = EXCLUDED.written_at;

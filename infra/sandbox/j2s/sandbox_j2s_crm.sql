-- J2S customer and contract records.
-- Seeding resets the demo people to this state (ON CONFLICT DO UPDATE), so it can run again.
INSERT INTO customers (customer_id, email, phone, full_name, country, created_at, restricted, marketing_opt_out, processing_objected) VALUES
    ('C-ADA-001', 'ada@example.org', '+2250700000001', 'Ada Lovelace', 'FR', '2024-03-01T09:00:00Z', false, false, false),
    ('C-J2S-002', 'camille@example.org', '+33600000002', 'Camille Martin', 'FR', '2024-03-01T09:00:00Z', false, false, false)
ON CONFLICT (customer_id) DO UPDATE SET email = EXCLUDED.email, phone = EXCLUDED.phone, full_name = EXCLUDED.full_name, country = EXCLUDED.country, created_at = EXCLUDED.created_at, restricted = EXCLUDED.restricted, marketing_opt_out = EXCLUDED.marketing_opt_out, processing_objected = EXCLUDED.processing_objected;
-- Retention (contract + 10 years): when each contract ended; one ended more than 10 years ago.
ALTER TABLE customers ADD COLUMN IF NOT EXISTS contract_ended_at timestamptz;
INSERT INTO customers (customer_id, email, phone, full_name, country, created_at, contract_ended_at) VALUES
    ('C-J2S-003', 'lucien@example.org', '+33600000003', 'Lucien Bernard', 'FR', '2009-05-04T09:00:00Z', '2015-03-31T00:00:00Z')
ON CONFLICT (customer_id) DO UPDATE SET email = EXCLUDED.email, phone = EXCLUDED.phone, full_name = EXCLUDED.full_name, country = EXCLUDED.country, created_at = EXCLUDED.created_at, contract_ended_at = EXCLUDED.contract_ended_at;

-- JSM CRM: customers of telecom and IT services.
-- Seeding resets the demo people to this state (ON CONFLICT DO UPDATE), so it can run again.
INSERT INTO customers (customer_id, email, phone, full_name, country, created_at, restricted, marketing_opt_out, processing_objected) VALUES
    ('C-ADA-001', 'ada@example.org', '+2250700000001', 'Ada Lovelace', 'BE', '2024-03-01T09:00:00Z', false, false, false),
    ('C-JSM-002', 'pieter@example.org', '+32470000002', 'Pieter Claes', 'BE', '2024-03-01T09:00:00Z', false, false, false)
ON CONFLICT (customer_id) DO UPDATE SET email = EXCLUDED.email, phone = EXCLUDED.phone, full_name = EXCLUDED.full_name, country = EXCLUDED.country, created_at = EXCLUDED.created_at, restricted = EXCLUDED.restricted, marketing_opt_out = EXCLUDED.marketing_opt_out, processing_objected = EXCLUDED.processing_objected;
-- Retention (deleted after at most 3 years of inactivity): when each customer was last active.
ALTER TABLE customers ADD COLUMN IF NOT EXISTS last_active_at timestamptz;
UPDATE customers SET last_active_at = now() - interval '10 days' WHERE customer_id IN ('C-ADA-001', 'C-JSM-002');
INSERT INTO customers (customer_id, email, phone, full_name, country, created_at, last_active_at) VALUES
    ('C-JSM-003', 'joris@example.org', '+32470000003', 'Joris Peeters', 'BE', '2019-02-01T09:00:00Z', '2022-06-30T18:00:00Z')
ON CONFLICT (customer_id) DO UPDATE SET email = EXCLUDED.email, phone = EXCLUDED.phone, full_name = EXCLUDED.full_name, country = EXCLUDED.country, created_at = EXCLUDED.created_at, last_active_at = EXCLUDED.last_active_at;

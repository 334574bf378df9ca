-- Nexio customer relationship data.
-- Seeding resets the demo people to this state (ON CONFLICT DO UPDATE), so it can run again.
INSERT INTO customers (customer_id, email, phone, full_name, country, created_at, restricted, marketing_opt_out, processing_objected) VALUES
    ('C-ADA-001', 'ada@example.org', '+2250700000001', 'Ada Lovelace', 'BE', '2024-03-01T09:00:00Z', false, false, false),
    ('C-NEX-002', 'lotte@example.org', '+31600000002', 'Lotte de Vries', 'NL', '2024-03-01T09:00:00Z', false, false, false)
ON CONFLICT (customer_id) DO UPDATE SET email = EXCLUDED.email, phone = EXCLUDED.phone, full_name = EXCLUDED.full_name, country = EXCLUDED.country, created_at = EXCLUDED.created_at, restricted = EXCLUDED.restricted, marketing_opt_out = EXCLUDED.marketing_opt_out, processing_objected = EXCLUDED.processing_objected;

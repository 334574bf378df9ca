-- JSM e-mail marketing processor (asynchronous, confirms on Kafka).
INSERT INTO contacts (contact_id, email, phone, advertising_id, purposes, opted_in_at, restricted) VALUES
    ('M-C-ADA-001', 'ada@example.org', '+2250700000001', NULL, ARRAY['marketing', 'newsletter'], '2024-03-01T09:05:00Z', false),
    ('M-C-JSM-002', 'pieter@example.org', '+32470000002', NULL, ARRAY['marketing', 'newsletter'], '2024-03-01T09:05:00Z', false)
ON CONFLICT (contact_id) DO UPDATE SET email = EXCLUDED.email, phone = EXCLUDED.phone, advertising_id = EXCLUDED.advertising_id, purposes = EXCLUDED.purposes, opted_in_at = EXCLUDED.opted_in_at, restricted = EXCLUDED.restricted;

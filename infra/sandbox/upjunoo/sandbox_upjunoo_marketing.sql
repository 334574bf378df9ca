-- UPJUNOO marketing tool: contacts and advertising identifiers (asynchronous, confirms on Kafka).
INSERT INTO contacts (contact_id, email, phone, advertising_id, purposes, opted_in_at) VALUES
    ('M-ADA-1', 'ada@example.org',   '+2250700000001', 'ad-7f3e9a1c', ARRAY['marketing', 'advertising'], '2024-02-01T09:05:00Z'),
    ('M-CHL-1', 'chloe@example.org', '+15145550003',   'ad-22b0c4d1', ARRAY['marketing'],                '2025-01-20T15:50:00Z')
ON CONFLICT (contact_id) DO UPDATE SET email = EXCLUDED.email, phone = EXCLUDED.phone, advertising_id = EXCLUDED.advertising_id, purposes = EXCLUDED.purposes, opted_in_at = EXCLUDED.opted_in_at;
UPDATE contacts SET restricted = false WHERE contact_id IN ('M-ADA-1', 'M-CHL-1');

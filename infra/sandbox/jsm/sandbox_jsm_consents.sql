-- JSM: written consents to share a customer's data with named third parties
-- ("indien u ons hier schriftelijk toestemming voor geeft"), withdrawable at any time.
CREATE TABLE IF NOT EXISTS sharing_consents (
    consent_id  text PRIMARY KEY,
    customer_id text NOT NULL,
    email       text NOT NULL,
    third_party text NOT NULL,
    granted_at  timestamptz NOT NULL,
    withdrawn   boolean NOT NULL DEFAULT false,
    restricted  boolean NOT NULL DEFAULT false
);
INSERT INTO sharing_consents (consent_id, customer_id, email, third_party, granted_at, withdrawn, restricted) VALUES
    ('SC-ADA-1', 'C-ADA-001', 'ada@example.org', 'Telenet (network installation partner)', '2024-09-12T10:00:00Z', false, false)
ON CONFLICT (consent_id) DO UPDATE SET customer_id = EXCLUDED.customer_id, email = EXCLUDED.email, third_party = EXCLUDED.third_party, granted_at = EXCLUDED.granted_at, withdrawn = EXCLUDED.withdrawn, restricted = EXCLUDED.restricted;

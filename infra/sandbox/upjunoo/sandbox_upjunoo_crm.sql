-- UPJUNOO CRM: customer accounts of the ride and delivery apps.
-- Seeding resets the demo people to this state (ON CONFLICT DO UPDATE), so it can run again.
-- Addresses are keyed by customer id only: the pack reaches them through the foreign key.
CREATE TABLE IF NOT EXISTS addresses (
    customer_id text NOT NULL REFERENCES customers (customer_id),
    label       text NOT NULL,
    line1       text NOT NULL,
    city        text NOT NULL,
    country     text NOT NULL,
    PRIMARY KEY (customer_id, label)
);
INSERT INTO customers (customer_id, email, phone, full_name, country, created_at) VALUES
    ('C-ADA-001', 'ada@example.org',   '+2250700000001', 'Ada Lovelace',  'CI', '2024-02-01T09:00:00Z'),
    ('C-BRU-002', 'bruno@example.org', '+2430810000002', 'Bruno Kabila',  'CD', '2024-05-11T10:30:00Z'),
    ('C-CHL-003', 'chloe@example.org', '+15145550003',   'Chloé Tremblay', 'CA', '2025-01-20T15:45:00Z')
ON CONFLICT (customer_id) DO UPDATE SET email = EXCLUDED.email, phone = EXCLUDED.phone, full_name = EXCLUDED.full_name, country = EXCLUDED.country, created_at = EXCLUDED.created_at;
-- A CRM seeded before the key was declared gets it now, without the addresses its erasures
-- left behind (seeding stays repeatable).
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'addresses_customer_id_fkey') THEN
        DELETE FROM addresses a WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.customer_id = a.customer_id);
        ALTER TABLE addresses ADD CONSTRAINT addresses_customer_id_fkey
            FOREIGN KEY (customer_id) REFERENCES customers (customer_id);
    END IF;
END $$;
INSERT INTO addresses (customer_id, label, line1, city, country) VALUES
    ('C-ADA-001', 'home', '12 rue des Jardins, Cocody', 'Abidjan', 'CI'),
    ('C-ADA-001', 'work', 'Plateau, Avenue Chardy',     'Abidjan', 'CI'),
    ('C-BRU-002', 'home', '5 avenue du Commerce',       'Kinshasa', 'CD'),
    ('C-CHL-003', 'home', '1200 rue Sainte-Catherine',  'Montréal', 'CA')
ON CONFLICT (customer_id, label) DO UPDATE SET line1 = EXCLUDED.line1, city = EXCLUDED.city, country = EXCLUDED.country;
-- Reset the flags of the demo people (restriction, objection, consent withdrawal).
UPDATE customers SET restricted = false, marketing_opt_out = false, processing_objected = false
 WHERE customer_id IN ('C-ADA-001', 'C-BRU-002', 'C-CHL-003');

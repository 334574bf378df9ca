-- Jump claims and disputes.
CREATE TABLE IF NOT EXISTS claims (
    claim_id    text PRIMARY KEY,
    customer_id text NOT NULL,
    email       text NOT NULL,
    status      text NOT NULL,
    opened_at   timestamptz NOT NULL,
    description text,
    restricted  boolean NOT NULL DEFAULT false
);
-- The shipment a claim is about (in the deliveries system): kept while the claim is open.
ALTER TABLE claims ADD COLUMN IF NOT EXISTS shipment_id text;
INSERT INTO claims (claim_id, customer_id, email, status, opened_at, description, restricted, shipment_id) VALUES
    ('JMP-C-1', 'C-ADA-001', 'ada@example.org', 'open', '2025-06-12T09:00:00Z', 'Parcel JMP-S-2 arrived damaged', false, 'JMP-S-2')
ON CONFLICT (claim_id) DO UPDATE SET customer_id = EXCLUDED.customer_id, email = EXCLUDED.email, status = EXCLUDED.status, opened_at = EXCLUDED.opened_at, description = EXCLUDED.description, restricted = EXCLUDED.restricted, shipment_id = EXCLUDED.shipment_id;

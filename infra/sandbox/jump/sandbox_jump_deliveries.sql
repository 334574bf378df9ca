-- Jump deliveries: parcels; their recipients are data subjects too.
CREATE TABLE IF NOT EXISTS shipments (
    shipment_id        text PRIMARY KEY,
    sender_customer_id text NOT NULL,
    recipient_name     text,
    recipient_phone    text,
    recipient_email    text,
    address            text,
    delivered_at       timestamptz,
    restricted         boolean NOT NULL DEFAULT false
);
INSERT INTO shipments (shipment_id, sender_customer_id, recipient_name, recipient_phone, recipient_email, address, delivered_at, restricted) VALUES
    ('JMP-S-1', 'C-JMP-002', 'Ada Lovelace', '+2250700000001', 'ada@example.org', 'Rue Neuve 1, 1000 Bruxelles', '2025-05-02T10:00:00Z', false),
    ('JMP-S-2', 'C-ADA-001', 'Youssef Alami', '+212600000002', 'youssef@example.org', 'Bd Mohammed V 10, Tanger', '2025-06-11T15:30:00Z', false)
ON CONFLICT (shipment_id) DO UPDATE SET sender_customer_id = EXCLUDED.sender_customer_id, recipient_name = EXCLUDED.recipient_name, recipient_phone = EXCLUDED.recipient_phone, recipient_email = EXCLUDED.recipient_email, address = EXCLUDED.address, delivered_at = EXCLUDED.delivered_at, restricted = EXCLUDED.restricted;

-- UPJUNOO apps: order and activity history, and what the phone gives the app (location,
-- SOS contacts from the phone book, photos, device data). The policy promises all of it.
CREATE TABLE IF NOT EXISTS orders (
    order_id         text PRIMARY KEY,
    customer_id      text NOT NULL,
    customer_email   text,
    customer_phone   text,
    items            text NOT NULL,
    amount_cents     integer NOT NULL,
    currency         text NOT NULL,
    delivery_address text,
    ordered_at       timestamptz NOT NULL,
    screens_viewed   integer,
    restricted       boolean NOT NULL DEFAULT false
);
INSERT INTO orders (order_id, customer_id, customer_email, customer_phone, items, amount_cents, currency, delivery_address, ordered_at, screens_viewed, restricted) VALUES
    ('O-ADA-1', 'C-ADA-001', 'ada@example.org',   '+2250700000001', 'ride Cocody -> Plateau', 350000, 'XOF', 'Rue des Jardins 12, Cocody', '2025-03-02T08:00:00Z', 14, false),
    ('O-ADA-2', 'C-ADA-001', 'ada@example.org',   '+2250700000001', 'groceries delivery',     125000, 'XOF', 'Rue des Jardins 12, Cocody', '2025-06-14T19:00:00Z', 31, false),
    ('O-BRU-1', 'C-BRU-002', 'bruno@example.org', '+2430810000002', 'parcel courier',          42000, 'CDF', 'Avenue du Commerce 5, Gombe', '2025-07-01T11:40:00Z', 9, false)
ON CONFLICT (order_id) DO UPDATE SET customer_id = EXCLUDED.customer_id, customer_email = EXCLUDED.customer_email, customer_phone = EXCLUDED.customer_phone, items = EXCLUDED.items, amount_cents = EXCLUDED.amount_cents, currency = EXCLUDED.currency, delivery_address = EXCLUDED.delivery_address, ordered_at = EXCLUDED.ordered_at, screens_viewed = EXCLUDED.screens_viewed, restricted = EXCLUDED.restricted;

CREATE TABLE IF NOT EXISTS locations (
    location_id  text PRIMARY KEY,
    customer_id  text NOT NULL,
    email        text,
    latitude     double precision NOT NULL,
    longitude    double precision NOT NULL,
    recorded_at  timestamptz NOT NULL,
    restricted   boolean NOT NULL DEFAULT false
);
INSERT INTO locations (location_id, customer_id, email, latitude, longitude, recorded_at, restricted) VALUES
    ('L-ADA-1', 'C-ADA-001', 'ada@example.org',   5.3541, -3.9857, '2025-06-14T18:55:00Z', false),
    ('L-BRU-1', 'C-BRU-002', 'bruno@example.org', -4.3036, 15.3107, '2025-07-01T11:35:00Z', false)
ON CONFLICT (location_id) DO UPDATE SET customer_id = EXCLUDED.customer_id, email = EXCLUDED.email, latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude, recorded_at = EXCLUDED.recorded_at, restricted = EXCLUDED.restricted;

CREATE TABLE IF NOT EXISTS sos_contacts (
    contact_id    text PRIMARY KEY,
    customer_id   text NOT NULL,
    email         text,
    contact_name  text NOT NULL,
    contact_phone text NOT NULL,
    restricted    boolean NOT NULL DEFAULT false
);
INSERT INTO sos_contacts (contact_id, customer_id, email, contact_name, contact_phone, restricted) VALUES
    ('S-ADA-1', 'C-ADA-001', 'ada@example.org', 'Byron (brother)', '+2250700000077', false)
ON CONFLICT (contact_id) DO UPDATE SET customer_id = EXCLUDED.customer_id, email = EXCLUDED.email, contact_name = EXCLUDED.contact_name, contact_phone = EXCLUDED.contact_phone, restricted = EXCLUDED.restricted;

CREATE TABLE IF NOT EXISTS photos (
    photo_id    text PRIMARY KEY,
    customer_id text NOT NULL,
    email       text,
    file_name   text NOT NULL,
    purpose     text NOT NULL,
    taken_at    timestamptz NOT NULL,
    restricted  boolean NOT NULL DEFAULT false
);
INSERT INTO photos (photo_id, customer_id, email, file_name, purpose, taken_at, restricted) VALUES
    ('P-ADA-1', 'C-ADA-001', 'ada@example.org', 'profile-ada.jpg', 'profile picture', '2025-03-01T10:00:00Z', false)
ON CONFLICT (photo_id) DO UPDATE SET customer_id = EXCLUDED.customer_id, email = EXCLUDED.email, file_name = EXCLUDED.file_name, purpose = EXCLUDED.purpose, taken_at = EXCLUDED.taken_at, restricted = EXCLUDED.restricted;

CREATE TABLE IF NOT EXISTS devices (
    device_id        text PRIMARY KEY,
    customer_id      text NOT NULL,
    email            text,
    model            text,
    operating_system text,
    ip_address       text,
    advertising_id   text,
    seen_at          timestamptz NOT NULL,
    restricted       boolean NOT NULL DEFAULT false
);
INSERT INTO devices (device_id, customer_id, email, model, operating_system, ip_address, advertising_id, seen_at, restricted) VALUES
    ('D-ADA-1', 'C-ADA-001', 'ada@example.org',   'Pixel 7',   'Android 14', '41.202.64.10', 'ad-7f3c-ada', '2025-06-14T18:50:00Z', false),
    ('D-BRU-1', 'C-BRU-002', 'bruno@example.org', 'Galaxy A14', 'Android 13', '41.243.12.7',  'ad-19b2-bru', '2025-07-01T11:30:00Z', false)
ON CONFLICT (device_id) DO UPDATE SET customer_id = EXCLUDED.customer_id, email = EXCLUDED.email, model = EXCLUDED.model, operating_system = EXCLUDED.operating_system, ip_address = EXCLUDED.ip_address, advertising_id = EXCLUDED.advertising_id, seen_at = EXCLUDED.seen_at, restricted = EXCLUDED.restricted;

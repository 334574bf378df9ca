-- UPJUNOO call recordings: metadata rows; the audio files live on disk (see recordings.json).
CREATE TABLE IF NOT EXISTS recordings (
    file_path    text PRIMARY KEY,
    customer_id  text,
    caller_phone text,
    kind         text NOT NULL CHECK (kind IN ('customer_driver', 'customer_courier', 'customer_shop', 'support')),
    recorded_at  timestamptz NOT NULL,
    duration_s   integer NOT NULL
);
INSERT INTO recordings (file_path, customer_id, caller_phone, kind, recorded_at, duration_s) VALUES
    ('ada-driver-0001.wav',   'C-ADA-001', '+2250700000001', 'customer_driver', '2025-06-14T19:01:00Z', 1),
    ('ada-support-0001.wav',  'C-ADA-001', '+2250700000001', 'support',         '2025-06-15T10:12:00Z', 1),
    ('bruno-courier-0001.wav','C-BRU-002', '+2430810000002', 'customer_courier','2025-07-01T11:40:00Z', 1)
ON CONFLICT (file_path) DO UPDATE SET customer_id = EXCLUDED.customer_id, caller_phone = EXCLUDED.caller_phone, kind = EXCLUDED.kind, recorded_at = EXCLUDED.recorded_at, duration_s = EXCLUDED.duration_s;
-- Retention (30 days driver/courier/shop, 3 months support): more calls from mid-2025 that the
-- schedule erases, and recent ones (dated from now) it keeps.
INSERT INTO recordings (file_path, customer_id, caller_phone, kind, recorded_at, duration_s) VALUES
    ('chloe-shop-0001.wav',     'C-CHL-003', '+2250700000003', 'customer_shop',   '2025-05-20T08:30:00Z', 1),
    ('chloe-support-0001.wav',  'C-CHL-003', '+2250700000003', 'support',         '2025-08-02T15:05:00Z', 1),
    ('chloe-driver-recent.wav', 'C-CHL-003', '+2250700000003', 'customer_driver', now() - interval '2 days', 1),
    ('chloe-support-recent.wav','C-CHL-003', '+2250700000003', 'support',         now() - interval '40 days', 1)
ON CONFLICT (file_path) DO UPDATE SET customer_id = EXCLUDED.customer_id, caller_phone = EXCLUDED.caller_phone, kind = EXCLUDED.kind, recorded_at = EXCLUDED.recorded_at, duration_s = EXCLUDED.duration_s;

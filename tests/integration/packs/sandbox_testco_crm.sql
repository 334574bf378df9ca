CREATE TABLE IF NOT EXISTS customers (
    email      text PRIMARY KEY,
    full_name  text NOT NULL,
    restricted boolean NOT NULL DEFAULT false
);
INSERT INTO customers (email, full_name) VALUES ('ada@example.org', 'Ada Lovelace')
ON CONFLICT (email) DO UPDATE SET full_name = EXCLUDED.full_name, restricted = false;
CREATE TABLE IF NOT EXISTS recordings (
    file_path   text PRIMARY KEY,
    caller_email text NOT NULL,
    kind        text NOT NULL,
    recorded_at timestamptz NOT NULL
);

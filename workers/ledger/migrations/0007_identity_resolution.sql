-- Identity resolution: which identifiers were given and which were found, and where. The
-- identifiers themselves only sealed (AES-GCM, workers.runtime.codec); the summary holds
-- kinds, counts and source systems, never a value. And each system's latest check of what
-- remains of the subject after it erased or anonymised (its verification).
CREATE TABLE request_identities (
    request_id   uuid PRIMARY KEY REFERENCES requests (request_id) ON DELETE CASCADE,
    summary      jsonb NOT NULL,
    key_id       text NOT NULL,
    sealed       bytea NOT NULL,
    resolved_at  timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE request_systems ADD COLUMN verification jsonb;

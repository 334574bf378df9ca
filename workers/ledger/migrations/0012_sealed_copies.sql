-- The orchestrator's own copies of personal data (reports, per-system records, identity
-- documents) are kept sealed (AES-GCM claim check, key id beside the ciphertext) and purged
-- after their period or when the person's erasure closes. Rows written in clear by earlier
-- releases stay readable and are sealed by the next ledger-retention run.
ALTER TABLE reports
    ADD COLUMN key_id text,
    ADD COLUMN sealed bytea,
    ADD COLUMN purged_at timestamptz,
    ADD COLUMN purge_reason text,
    ALTER COLUMN report DROP NOT NULL,
    ALTER COLUMN html DROP NOT NULL;
ALTER TABLE request_systems
    ADD COLUMN records_key_id text,
    ADD COLUMN records_sealed bytea,
    ADD COLUMN records_purged_at timestamptz;
ALTER TABLE identity_documents
    ADD COLUMN key_id text,
    ADD COLUMN sealed bytea,
    ALTER COLUMN document DROP NOT NULL;

-- The audit chain is sealed with a secret key (HMAC-SHA-256, workers/ledger/audit.py). Entries
-- written before keep their plain SHA-256 and are marked so; they may only precede sealed ones.
ALTER TABLE audit_log ADD COLUMN seal text NOT NULL DEFAULT 'sha256';
ALTER TABLE audit_log ALTER COLUMN seal SET DEFAULT 'hmac-sha256';

-- The ledger's schema as it stood before numbered migrations (SCHEMA_SQL of each store module,
-- in the order Ledger.ensure_schema ran them), idempotent. Never edit: workers/ledger/migrate.py
-- runs it once to adopt a ledger created before migrations, then records 0001..0006 as applied,
-- which together create exactly this schema.
CREATE TABLE IF NOT EXISTS requests (
    request_id     uuid PRIMARY KEY,
    tenant         text NOT NULL,
    type           text NOT NULL,
    jurisdiction   text NOT NULL,
    status         text NOT NULL,
    flags          text[] NOT NULL DEFAULT '{}',
    submitted_at   timestamptz NOT NULL,
    received_at    timestamptz NOT NULL DEFAULT now(),
    due_at         timestamptz NOT NULL,
    deadline_basis text,
    workflow_id    text NOT NULL,
    reason         text,
    closed_at      timestamptz,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS requests_open_by_due ON requests (due_at) WHERE closed_at IS NULL;
ALTER TABLE requests ADD COLUMN IF NOT EXISTS subject_refs text[] NOT NULL DEFAULT '{}';
CREATE INDEX IF NOT EXISTS requests_by_subject ON requests USING gin (subject_refs);
ALTER TABLE requests ADD COLUMN IF NOT EXISTS details_digest text NOT NULL DEFAULT '';
CREATE TABLE IF NOT EXISTS request_systems (
    request_id     uuid NOT NULL REFERENCES requests (request_id) ON DELETE CASCADE,
    system         text NOT NULL,
    action         text NOT NULL,
    outcome        text NOT NULL DEFAULT 'pending',
    citation       text,
    attempts       integer NOT NULL DEFAULT 0,
    located        integer,
    started_at     timestamptz,
    confirmed_at   timestamptz,
    legal_basis    text,
    retained_until timestamptz,
    error          text,
    evidence       jsonb NOT NULL DEFAULT '{}',
    records        jsonb,
    PRIMARY KEY (request_id, system)
);
CREATE TABLE IF NOT EXISTS reports (
    request_id   uuid PRIMARY KEY REFERENCES requests (request_id) ON DELETE CASCADE,
    report       jsonb NOT NULL,
    html         text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS legal_holds (
    hold_id      uuid PRIMARY KEY,
    tenant       text NOT NULL,
    subject_refs text[] NOT NULL,
    reason       text NOT NULL,
    placed_by    text NOT NULL,
    placed_at    timestamptz NOT NULL DEFAULT now(),
    released_by  text,
    released_at  timestamptz,
    release_reason text
);
CREATE INDEX IF NOT EXISTS legal_holds_active
    ON legal_holds USING gin (subject_refs) WHERE released_at IS NULL;
CREATE TABLE IF NOT EXISTS identity_documents (
    request_id   uuid PRIMARY KEY,
    document     text NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS audit_log (
    seq        bigserial PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    actor      text NOT NULL,
    action     text NOT NULL,
    request_id uuid,
    reason     text NOT NULL DEFAULT '',
    details    jsonb NOT NULL DEFAULT '{}',
    prev_hash  text NOT NULL,
    hash       text NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_log_request ON audit_log (request_id);

CREATE TABLE IF NOT EXISTS post_mortem_directives (
    directive_id  uuid PRIMARY KEY,
    tenant        text NOT NULL,
    subject_refs  text[] NOT NULL,
    subject       jsonb NOT NULL,
    request_type  text NOT NULL,
    beneficiary   text NOT NULL DEFAULT '',
    recorded_by   text NOT NULL,
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    executed_at   timestamptz,
    request_id    uuid
);

CREATE TABLE IF NOT EXISTS partners (
    partner          text PRIMARY KEY,
    base_url         text NOT NULL,
    domain           text NOT NULL,
    certificate_pem  text NOT NULL,
    registered_at    timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS partner_requests (
    subject_request_id uuid PRIMARY KEY,
    request_id       uuid NOT NULL,
    system           text NOT NULL,
    tenant           text NOT NULL,
    partner          text NOT NULL,
    status           text NOT NULL DEFAULT 'new',
    expected_completion_time timestamptz,
    submitted_at     timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    polls            integer NOT NULL DEFAULT 0,
    last_polled_at   timestamptz,
    UNIQUE (request_id, system)
);
CREATE TABLE IF NOT EXISTS partner_callbacks (
    digest           text PRIMARY KEY,
    subject_request_id uuid NOT NULL,
    request_status   text NOT NULL,
    sent_time        timestamptz NOT NULL,
    received_at      timestamptz NOT NULL DEFAULT now(),
    signature        text NOT NULL,
    body             jsonb NOT NULL,
    applied_at       timestamptz  -- when the workflow took it (null: kept, not yet delivered)
);
CREATE INDEX IF NOT EXISTS partner_callbacks_by_request ON partner_callbacks (subject_request_id);

CREATE TABLE IF NOT EXISTS consent_batches (
    batch_id     uuid PRIMARY KEY,
    tenant       text NOT NULL,
    changes      integer NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    key_id       text NOT NULL,
    sealed       bytea NOT NULL  -- the changes with identities, AES-GCM (workers.runtime.codec)
);
CREATE TABLE IF NOT EXISTS consent_events (
    event_id     text PRIMARY KEY,
    tenant       text NOT NULL,
    batch_id     uuid NOT NULL,
    subject_refs text[] NOT NULL,
    purposes     text[] NOT NULL,
    action       text NOT NULL,
    occurred_at  timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS consent_evidence (
    event_id     text NOT NULL,
    system       text NOT NULL,
    batch_id     uuid NOT NULL,
    outcome      text NOT NULL,
    confirmed_at timestamptz NOT NULL,
    evidence     jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (event_id, system)
);
CREATE TABLE IF NOT EXISTS suppressions (
    tenant       text NOT NULL,
    subject_ref  text NOT NULL,
    purpose      text NOT NULL,
    since        timestamptz NOT NULL,
    event_id     text NOT NULL,
    PRIMARY KEY (tenant, subject_ref, purpose)
);

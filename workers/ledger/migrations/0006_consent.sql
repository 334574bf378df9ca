-- Consent changes, their batches, per-subject evidence and the suppression list.
CREATE TABLE consent_batches (
    batch_id     uuid PRIMARY KEY,
    tenant       text NOT NULL,
    changes      integer NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    key_id       text NOT NULL,
    sealed       bytea NOT NULL  -- the changes with identities, AES-GCM (workers.runtime.codec)
);
CREATE TABLE consent_events (
    event_id     text PRIMARY KEY,
    tenant       text NOT NULL,
    batch_id     uuid NOT NULL,
    subject_refs text[] NOT NULL,
    purposes     text[] NOT NULL,
    action       text NOT NULL,
    occurred_at  timestamptz NOT NULL
);
CREATE TABLE consent_evidence (
    event_id     text NOT NULL,
    system       text NOT NULL,
    batch_id     uuid NOT NULL,
    outcome      text NOT NULL,
    confirmed_at timestamptz NOT NULL,
    evidence     jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (event_id, system)
);
CREATE TABLE suppressions (
    tenant       text NOT NULL,
    subject_ref  text NOT NULL,
    purpose      text NOT NULL,
    since        timestamptz NOT NULL,
    event_id     text NOT NULL,
    PRIMARY KEY (tenant, subject_ref, purpose)
);

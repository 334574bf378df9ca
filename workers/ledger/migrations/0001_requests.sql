-- Requests, each system's outcome per request, and the reports: the evidence.
CREATE TABLE requests (
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
    updated_at     timestamptz NOT NULL DEFAULT now(),
    subject_refs   text[] NOT NULL DEFAULT '{}',
    details_digest text NOT NULL DEFAULT ''
);
CREATE INDEX requests_open_by_due ON requests (due_at) WHERE closed_at IS NULL;
CREATE INDEX requests_by_subject ON requests USING gin (subject_refs);
CREATE TABLE request_systems (
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
CREATE TABLE reports (
    request_id   uuid PRIMARY KEY REFERENCES requests (request_id) ON DELETE CASCADE,
    report       jsonb NOT NULL,
    html         text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

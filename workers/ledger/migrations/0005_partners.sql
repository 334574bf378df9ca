-- The partner directory, what was sent to each partner, and every accepted callback.
CREATE TABLE partners (
    partner          text PRIMARY KEY,
    base_url         text NOT NULL,
    domain           text NOT NULL,
    certificate_pem  text NOT NULL,
    registered_at    timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE partner_requests (
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
CREATE TABLE partner_callbacks (
    digest           text PRIMARY KEY,
    subject_request_id uuid NOT NULL,
    request_status   text NOT NULL,
    sent_time        timestamptz NOT NULL,
    received_at      timestamptz NOT NULL DEFAULT now(),
    signature        text NOT NULL,
    body             jsonb NOT NULL,
    applied_at       timestamptz  -- when the workflow took it (null: kept, not yet delivered)
);
CREATE INDEX partner_callbacks_by_request ON partner_callbacks (subject_request_id);

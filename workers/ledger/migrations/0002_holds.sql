-- Legal holds on a subject; identity documents awaiting a check.
CREATE TABLE legal_holds (
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
CREATE INDEX legal_holds_active
    ON legal_holds USING gin (subject_refs) WHERE released_at IS NULL;
CREATE TABLE identity_documents (
    request_id   uuid PRIMARY KEY,
    document     text NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now()
);

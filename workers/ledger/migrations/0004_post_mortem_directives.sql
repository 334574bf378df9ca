-- Post-mortem directives (Art. 85 loi Informatique et Libertés), acted on when a death is notified.
CREATE TABLE post_mortem_directives (
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

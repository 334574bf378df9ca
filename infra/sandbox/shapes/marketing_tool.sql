-- Shape of an asynchronous marketing tool (answers on Kafka): contacts, the suppression list
-- that keeps a subject from being re-added, and the tasks it already handled.
CREATE TABLE IF NOT EXISTS contacts (
    contact_id     text PRIMARY KEY,
    email          text,
    phone          text,
    advertising_id text,
    purposes       text[] NOT NULL,
    opted_in_at    timestamptz NOT NULL,
    restricted     boolean NOT NULL DEFAULT false
);
-- Subjects who withdrew consent or objected: an import must not add them again.
CREATE TABLE IF NOT EXISTS suppressions (
    identity      text NOT NULL,
    value         text NOT NULL,
    suppressed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (identity, value)
);
CREATE TABLE IF NOT EXISTS processed_tasks (
    task_id      text PRIMARY KEY,
    outcome      text NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
);

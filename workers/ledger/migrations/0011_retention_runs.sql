-- Evidence of every retention sweep run: which rule, when, the cutoff, and counts (no identities).
CREATE TABLE retention_runs (
    run_id        text PRIMARY KEY,
    tenant        text NOT NULL,
    rule          text NOT NULL,
    system        text NOT NULL,
    action        text NOT NULL,
    dry_run       boolean NOT NULL,
    cutoff        timestamptz NOT NULL,
    started_at    timestamptz NOT NULL,
    finished_at   timestamptz NOT NULL,
    examined      integer NOT NULL,
    acted         integer NOT NULL,
    skipped_held  integer NOT NULL,
    files_deleted integer NOT NULL DEFAULT 0,
    batches       integer NOT NULL,
    citation      text NOT NULL DEFAULT ''
);
CREATE INDEX retention_runs_by_rule ON retention_runs (tenant, rule, finished_at DESC);

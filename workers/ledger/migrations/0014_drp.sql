-- Data Rights Protocol 1.0: authorised agents' pairwise tokens, the requests they made, the
-- signed messages already seen (replays are refused), and what each agent was last told.
CREATE TABLE drp_tokens (
    token_digest text PRIMARY KEY,  -- SHA-256 of the bearer token: the token itself is never kept
    agent_id     text NOT NULL,
    business_id  text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE drp_messages (
    message_digest text PRIMARY KEY,  -- SHA-256 of the signed bytes
    agent_id       text NOT NULL,
    kind           text NOT NULL,     -- agent-setup | data-rights-request | revoke
    expires_at     timestamptz NOT NULL,
    seen_at        timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE drp_requests (
    request_id       uuid PRIMARY KEY,  -- our privacy.requests.v1 request_id
    agent_id         text NOT NULL,
    business_id      text NOT NULL,
    tenant           text NOT NULL,
    agent_request_id text,
    exercise         text NOT NULL,
    status_callback  text,
    received_at      timestamptz NOT NULL DEFAULT now(),
    revoked_at       timestamptz,
    notified         text,              -- the status the agent's callback last acknowledged
    notify_attempts  integer NOT NULL DEFAULT 0,
    notify_after     timestamptz NOT NULL DEFAULT now(),
    notify_error     text,
    notify_done      boolean NOT NULL DEFAULT false  -- a final status was acknowledged
);
CREATE INDEX drp_requests_to_notify ON drp_requests (notify_after) WHERE status_callback IS NOT NULL AND NOT notify_done;

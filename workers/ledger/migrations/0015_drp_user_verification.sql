-- DRP need_user_verification: an agent's request whose identity assurance is below the tenant's
-- rule waits for the person to verify on our page (user_verification_url) until
-- user_verification_until; wrong answers are counted so guessing ends in a denial.
ALTER TABLE drp_requests
    ADD COLUMN user_verification_until    timestamptz,  -- NULL: the agent's assurance sufficed
    ADD COLUMN user_verification_attempts integer NOT NULL DEFAULT 0,
    ADD COLUMN user_verified_at           timestamptz;

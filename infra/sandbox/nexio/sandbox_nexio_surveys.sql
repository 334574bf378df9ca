-- Nexio customer surveys (answers deleted when the survey ends).
CREATE TABLE IF NOT EXISTS responses (
    response_id text PRIMARY KEY,
    survey      text NOT NULL,
    customer_id text,
    email       text,
    phone       text,
    answers     text,
    restricted  boolean NOT NULL DEFAULT false
);
INSERT INTO responses (response_id, survey, customer_id, email, phone, answers, restricted) VALUES
    ('NEX-R-1', '2026-satisfaction', 'C-ADA-001', 'ada@example.org', '+2250700000001', 'Very satisfied', false)
ON CONFLICT (response_id) DO UPDATE SET survey = EXCLUDED.survey, customer_id = EXCLUDED.customer_id, email = EXCLUDED.email, phone = EXCLUDED.phone, answers = EXCLUDED.answers, restricted = EXCLUDED.restricted;
-- Retention (deleted as soon as the survey ends): each survey's end; one has ended.
CREATE TABLE IF NOT EXISTS surveys (
    survey   text PRIMARY KEY,
    ended_at timestamptz
);
INSERT INTO surveys (survey, ended_at) VALUES
    ('2026-satisfaction', NULL),
    ('2025-delivery', '2025-12-31T23:59:00Z')
ON CONFLICT (survey) DO UPDATE SET ended_at = EXCLUDED.ended_at;
INSERT INTO responses (response_id, survey, customer_id, email, phone, answers, restricted) VALUES
    ('NEX-R-0', '2025-delivery', 'C-ADA-001', 'ada@example.org', '+2250700000001', 'Parcel arrived late', false),
    ('NEX-R-2', '2025-delivery', 'C-NEX-002', 'lotte@example.org', '+31600000002', 'All good', false)
ON CONFLICT (response_id) DO UPDATE SET survey = EXCLUDED.survey, customer_id = EXCLUDED.customer_id, email = EXCLUDED.email, phone = EXCLUDED.phone, answers = EXCLUDED.answers, restricted = EXCLUDED.restricted;

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

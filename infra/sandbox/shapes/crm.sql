-- Shape of a CRM: customer records with the flags restriction, objection and consent
-- withdrawal set. Tenant files under infra/sandbox/<tenant>/ hold only their demo people.
CREATE TABLE IF NOT EXISTS customers (
    customer_id         text PRIMARY KEY,
    email               text NOT NULL,
    phone               text,
    full_name           text NOT NULL,
    country             text NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    restricted          boolean NOT NULL DEFAULT false,
    marketing_opt_out   boolean NOT NULL DEFAULT false,
    processing_objected boolean NOT NULL DEFAULT false
);

"""A sandbox shop database shaped like the ones people run: only ``customer`` holds the e-mail;
``address``, ``orders`` and ``payment`` reference ``customer.id`` through foreign keys, and
``review`` points at ``orders.id`` with no constraint at all (a pack reaches it through
``references``). Each customer has 1 address, 3 orders, 3 payments and 1 review.

Seeded for the test and bench tenant ``shop`` (its pack: ``tests/integration/packs/shop.json``),
not by ``seed_all``: the number of customers is a parameter (a few for tests, 1,000 for the
bench). Seeding empties the tables first, so it always leaves the same people behind.
"""

from __future__ import annotations

import asyncpg

from infra.bootstrap import ensure_database
from workers.runtime.settings import Settings

SHOP_DATABASE = "sandbox_shop"

SCHEMA = """
CREATE TABLE IF NOT EXISTS customer (
    id         bigint PRIMARY KEY,
    email      text UNIQUE,  -- NULL once anonymised
    name       text,
    phone      text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS customer_lower_email ON customer (lower(email));
CREATE TABLE IF NOT EXISTS address (
    id          bigint PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customer (id),
    street      text,
    city        text,
    postcode    text
);
CREATE INDEX IF NOT EXISTS address_customer_id ON address (customer_id);
CREATE TABLE IF NOT EXISTS orders (
    id            bigint PRIMARY KEY,
    customer_id   bigint NOT NULL REFERENCES customer (id),
    ordered_at    timestamptz NOT NULL,
    total_cents   integer NOT NULL,
    shipping_name text
);
CREATE INDEX IF NOT EXISTS orders_customer_id ON orders (customer_id);
CREATE TABLE IF NOT EXISTS payment (
    id           bigint PRIMARY KEY,
    customer_id  bigint NOT NULL REFERENCES customer (id),
    amount_cents integer NOT NULL,
    card_holder  text,
    card_last4   text
);
CREATE INDEX IF NOT EXISTS payment_customer_id ON payment (customer_id);
-- No foreign key: the pack says review.order_id references orders.id.
CREATE TABLE IF NOT EXISTS review (
    id            bigint PRIMARY KEY,
    order_id      bigint NOT NULL,
    rating        integer NOT NULL,
    body          text,
    reviewer_name text
);
CREATE INDEX IF NOT EXISTS review_order_id ON review (order_id);
"""

_FILL = [
    "TRUNCATE review, payment, orders, address, customer",
    """INSERT INTO customer (id, email, name, phone)
       SELECT i, 'shop-customer-' || i || '@example.org', 'Customer ' || i, '+3247' || lpad(i::text, 7, '0')
         FROM generate_series(1, $1::int) AS i""",
    """INSERT INTO address (id, customer_id, street, city, postcode)
       SELECT i, i, i || ' Rue du Commerce', 'Bruxelles', '1000' FROM generate_series(1, $1::int) AS i""",
    """INSERT INTO orders (id, customer_id, ordered_at, total_cents, shipping_name)
       SELECT (i - 1) * 3 + k, i, now() - k * interval '1 day', 1000 * k, 'Customer ' || i
         FROM generate_series(1, $1::int) AS i, generate_series(1, 3) AS k""",
    """INSERT INTO payment (id, customer_id, amount_cents, card_holder, card_last4)
       SELECT (i - 1) * 3 + k, i, 1000 * k, 'Customer ' || i, lpad(((i * 7 + k) % 10000)::text, 4, '0')
         FROM generate_series(1, $1::int) AS i, generate_series(1, 3) AS k""",
    """INSERT INTO review (id, order_id, rating, body, reviewer_name)
       SELECT i, (i - 1) * 3 + 1, 5, 'Arrived on time', 'Customer ' || i
         FROM generate_series(1, $1::int) AS i""",
]


def shop_email(number: int) -> str:
    """The e-mail of shop customer ``number`` (1-based), the only identity the shop holds."""
    return f"shop-customer-{number}@example.org"


async def seed_shop(settings: Settings, customers: int = 10) -> None:
    """Create the shop's tables if needed and fill them with ``customers`` customers."""
    if customers < 1:
        raise ValueError("the shop needs at least one customer")
    await ensure_database(settings, SHOP_DATABASE)
    conn = await asyncpg.connect(settings.pg_dsn(SHOP_DATABASE))
    try:
        await conn.execute(SCHEMA)
        async with conn.transaction():
            await conn.execute(_FILL[0])
            for statement in _FILL[1:]:
                await conn.execute(statement, customers)
        await conn.execute("ANALYZE customer, address, orders, payment, review")
    finally:
        await conn.close()

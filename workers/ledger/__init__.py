"""The ledger: evidence in PostgreSQL, one module per store, schema by numbered migrations."""

from workers.ledger.requests import Ledger

__all__ = ["Ledger"]

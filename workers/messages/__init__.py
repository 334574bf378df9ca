"""The small dataclasses workflows, activities, connectors and the ledger exchange: one per
call, so fields can be added without breaking running histories. Depends on ``schemas`` only."""

"""HTTP API: request status and reports, served from the ledger."""

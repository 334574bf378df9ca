"""The embedded dev stack (Temporal dev server, Tansu broker, PostgreSQL) and the sandbox systems."""

"""Sandbox downstream systems: real databases, files and an asynchronous tool, with demo data."""

"""Temporal workers: activities (all I/O) and the generic connectors to downstream systems."""

"""Deterministic orchestration: one workflow per request, one child per downstream system."""

"""The event contract: topic names, their JSON Schemas, and validation against them.

The JSON files in ``schemas/json/`` are the single source of the rules; code validates by
loading them, never by re-stating them.
"""

from schemas.contract import (
    CONFIRMATIONS_TOPIC,
    CONSENT_TOPIC,
    DLQ_TOPIC,
    REQUEST_EVENTS_TOPIC,
    REQUESTS_TOPIC,
    SYSTEM_TASKS_TOPIC,
    ContractViolation,
    decode_and_validate,
    decode_event,
    schema_for,
    validate,
)

__all__ = [
    "CONSENT_TOPIC",
    "CONFIRMATIONS_TOPIC",
    "DLQ_TOPIC",
    "REQUEST_EVENTS_TOPIC",
    "REQUESTS_TOPIC",
    "SYSTEM_TASKS_TOPIC",
    "ContractViolation",
    "decode_and_validate",
    "decode_event",
    "schema_for",
    "validate",
]

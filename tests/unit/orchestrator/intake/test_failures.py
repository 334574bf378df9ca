"""Data errors are never retried; a dependency that stays down is retried, then given up."""

import asyncpg
import pytest
from temporalio.service import RPCError, RPCStatusCode

from orchestrator.intake.failures import DependencyUnavailable, is_transient, retry_transient
from schemas import ContractViolation


def test_what_the_value_causes_is_not_transient_what_the_stack_causes_is():
    assert not is_transient(asyncpg.exceptions.CharacterNotInRepertoireError("invalid byte sequence"))
    assert not is_transient(ContractViolation("schema_violation", "x"))
    assert not is_transient(RecursionError())
    assert not is_transient(RPCError("bad id", RPCStatusCode.INVALID_ARGUMENT, b""))
    assert is_transient(asyncpg.exceptions.CannotConnectNowError("the database system is starting up"))
    assert is_transient(ConnectionRefusedError())
    assert is_transient(RPCError("down", RPCStatusCode.UNAVAILABLE, b""))


async def test_a_data_error_fails_at_once():
    calls = []

    async def store() -> None:
        calls.append(1)
        raise asyncpg.exceptions.CharacterNotInRepertoireError("invalid byte sequence for encoding")

    with pytest.raises(asyncpg.exceptions.CharacterNotInRepertoireError):
        await retry_transient("storing", store, budget_seconds=60)
    assert calls == [1]


async def test_a_dependency_down_past_the_budget_is_given_up_with_an_alert(caplog):
    calls = []

    async def start() -> None:
        calls.append(1)
        raise ConnectionRefusedError()

    with pytest.raises(DependencyUnavailable):
        await retry_transient("starting", start, budget_seconds=1)
    assert 2 <= len(calls) <= 4
    assert "ALERT" in caplog.text


async def test_a_dependency_that_comes_back_is_waited_for():
    calls = []

    async def start() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise asyncpg.exceptions.CannotConnectNowError("starting up")
        return "started"

    assert await retry_transient("starting", start, budget_seconds=60) == "started"

"""Task ids bind an asynchronous system's answer to the task sent: keyed, stable, unguessable."""

import base64
import os
import stat

import pytest

from workers.runtime.task_ids import CONSENT_BATCH_TASK, REQUEST_TASK, TaskIds, task_ids_from_environment

REQUEST = "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f"


def test_the_same_task_gets_the_same_id_and_any_other_task_another():
    ids = TaskIds(os.urandom(32))
    issued = ids.issue(REQUEST_TASK, "upjunoo", REQUEST, "marketing_list")
    assert issued == ids.issue(REQUEST_TASK, "upjunoo", REQUEST.upper(), "marketing_list")
    assert ids.matches(issued, REQUEST_TASK, "upjunoo", REQUEST, "marketing_list")
    for other in (
        (CONSENT_BATCH_TASK, "upjunoo", REQUEST, "marketing_list"),
        (REQUEST_TASK, "jump", REQUEST, "marketing_list"),
        (REQUEST_TASK, "upjunoo", REQUEST, "crm"),
    ):
        assert not ids.matches(issued, *other)


def test_without_the_key_the_id_cannot_be_derived():
    guessed = TaskIds(os.urandom(32)).issue(REQUEST_TASK, "upjunoo", REQUEST, "marketing_list")
    assert not TaskIds(os.urandom(32)).matches(guessed, REQUEST_TASK, "upjunoo", REQUEST, "marketing_list")
    assert REQUEST not in guessed and "marketing_list" not in guessed
    old_style = f"{REQUEST}/marketing_list"  # what the id was before: anyone could write it
    assert not TaskIds(os.urandom(32)).matches(old_style, REQUEST_TASK, "upjunoo", REQUEST, "marketing_list")


def test_the_dev_key_is_created_once_private_and_shared(tmp_path, monkeypatch):
    monkeypatch.delenv("PRIVACY_TASK_ID_KEY", raising=False)
    first = task_ids_from_environment(tmp_path).issue(REQUEST_TASK, "t", REQUEST, "s")
    assert task_ids_from_environment(tmp_path).issue(REQUEST_TASK, "t", REQUEST, "s") == first
    assert stat.S_IMODE((tmp_path / "task-id-key").stat().st_mode) == 0o600
    monkeypatch.setenv("PRIVACY_TASK_ID_KEY", base64.b64encode(os.urandom(32)).decode())
    assert task_ids_from_environment(tmp_path).issue(REQUEST_TASK, "t", REQUEST, "s") != first


def test_a_short_key_is_refused():
    with pytest.raises(ValueError, match="32 bytes"):
        TaskIds(b"short")

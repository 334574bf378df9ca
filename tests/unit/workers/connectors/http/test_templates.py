"""The pack template language: values filled in from plain data, never evaluated."""

from __future__ import annotations

import hashlib

import pytest

from workers.connectors.http.templates import (
    MissingValue,
    TemplateError,
    check,
    pointer,
    render,
    render_value,
)

CONTEXT = {
    "subject": {"email": "Ada@Example.org", "phone": "+2250700000001"},
    "record": {"id": "cus_1", "count": 3},
    "previous": {"job_status": {"id": "job-9", "tags": ["a", "b"]}},
    "details": {"corrections": {"email": "new@example.org"}},
    "task": {"request_id": "r-1"},
}


def test_placeholders_are_filled_from_the_context():
    assert render("email:'{subject.email}'", CONTEXT) == "email:'Ada@Example.org'"
    assert render("/jobs/{previous.job_status.id}", CONTEXT) == "/jobs/job-9"
    assert render("{previous.job_status.tags.1}", CONTEXT) == "b"


def test_md5_of_the_lower_cased_email_keys_mailing_members():
    expected = hashlib.md5(b"ada@example.org").hexdigest()
    assert render("/members/{md5_lower(subject.email)}", CONTEXT) == f"/members/{expected}"
    assert render("{ lower( subject.email ) }", CONTEXT) == "ada@example.org"


def test_values_are_escaped_for_their_place_and_braces_can_be_literal():
    assert (
        render("/u/{subject.email}", CONTEXT, escape=lambda v: v.replace("@", "%40"))
        == "/u/Ada%40Example.org"
    )
    assert render("{{literal}} {record.id}", CONTEXT) == "{literal} cus_1"


def test_a_missing_value_is_told_apart_from_a_malformed_template():
    with pytest.raises(MissingValue) as missing:
        render("{subject.customer_id}", CONTEXT)
    assert missing.value.path == "subject.customer_id"
    for bad in ("{__import__('os')}", "{subject.email + 1}", "{eval(subject.email)}", "{os.environ.HOME}"):
        with pytest.raises(TemplateError):
            render(bad, CONTEXT)
    with pytest.raises(TemplateError):
        check("{subject.email")


def test_a_body_keeps_json_types_and_recurses():
    body = render_value({"n": "{record.count}", "s": "n={record.count}", "l": ["{record.id}"]}, CONTEXT)
    assert body == {"n": 3, "s": "n=3", "l": ["cus_1"]}


def test_json_pointers_find_records_and_ids():
    document = {"data": [{"id": "a/b"}, {"id": 2}], "a~b": 1}
    assert pointer(document, "") is document
    assert pointer(document, "/data/1/id") == 2
    assert pointer(document, "/a~0b") == 1
    assert pointer(document, "/missing/0") is None
    with pytest.raises(TemplateError):
        pointer(document, "data")

"""HTTP connector: a SaaS tool (billing, mailing, support desk …) described entirely by pack data.

Pack shape (``README.md`` has a full example)::

    {"kind": "http", "base_url": "https://…" | "env:NAME" | "file:NAME",
     "auth": {"type": "bearer"|"basic"|"header", "secret": "env:NAME"|"file:NAME", …},
     "limits": {"per_second": 5, "concurrency": 2}, "timeout_seconds": 10,
     "retries": {"attempts": 5, "backoff_seconds": 0.5, "max_wait_seconds": 10},
     "find": [search, …], "related": [listing, …], "verify": {"within_seconds": 20},
     "erase"|"anonymise"|"rectify"|"restrict"|"stop_processing": {"calls": [call, …]}}

``find`` is how the person is found: each search is a call whose ``records`` (a JSON pointer)
lists what it found and ``id`` where each record's id sits (``match`` keeps only the records
whose fields equal the subject's, for listings that cannot search); searches naming an identity the
request does not carry are skipped, results are merged by id, and ``absent`` statuses (a 404
on ``GET /members/{md5_lower(subject.email)}``) mean nobody. ``locate`` counts what the
searches find, so it is also the verification: after an erase or an anonymisation the person is
looked up again until nothing remains (bounded by ``verify.within_seconds``: search indexes
lag behind writes), else the step fails retryably. An action's ``calls`` run in order for each
record found, ``{previous.…}`` being the answer of the call before; ``gone`` statuses mean it
was done already (a retry), and ``poll`` follows an asynchronous job until it is done.
``export`` returns the records found plus every ``related`` listing of each (invoices, tickets).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import quote

from schemas.identity import normalise_identity
from schemas.vocabulary import done_outcome
from workers.connectors.base import (
    VERIFIED_ACTIONS,
    BatchResult,
    BatchSubject,
    Connector,
    ConnectorError,
    ConnectorResult,
)
from workers.connectors.http.client import HttpSystems, Reply
from workers.connectors.http.pagination import Page, pagination_for
from workers.connectors.http.templates import MissingValue, TemplateError, pointer, render, render_value
from workers.messages.requests import SystemStep, SystemTaskInput

Record = dict[str, Any]


def _context(
    task: SystemTaskInput,
    record: Record | None = None,
    previous: Any = None,
    subject: dict[str, str] | None = None,
) -> dict[str, Any]:
    if subject is None:
        subject = {k: normalise_identity(k, v) for k, v in task.subject.items()}
    return {
        "subject": subject,
        "record": record or {},
        "previous": previous if previous is not None else {},
        "details": task.details,
        "task": {"request_id": task.request_id, "tenant": task.tenant, "request_type": task.request_type},
    }


def _subjects(task: SystemTaskInput) -> list[dict[str, str]]:
    """The subject as given, then once more for each further identifier identity resolution
    linked (in place of, or beside, the given one of its kind): searches run by every one."""
    given = {k: normalise_identity(k, v) for k, v in task.subject.items()}
    subjects = [given]
    for kind, values in task.identities().items():
        subjects.extend({**given, kind: value} for value in values if given.get(kind) != value)
    return subjects


def _fields(template: Mapping[str, Any], context: Mapping[str, Any]) -> dict[str, Any]:
    """A body or form template filled in; a field whose value this request lacks (a correction
    not asked for) is left out rather than sent empty."""
    filled: dict[str, Any] = {}
    for key, value in template.items():
        try:
            filled[key] = (
                _fields(value, context) if isinstance(value, Mapping) else render_value(value, context)
            )
        except MissingValue:
            continue
    return filled


def _matching(records: list[Record], match: Mapping[str, str], context: Mapping[str, Any]) -> list[Record]:
    """Only the records whose fields equal the subject's (case-insensitively): for a listing
    that cannot be searched, e.g. the deleted users still waiting for their purge."""
    wanted = {where: render(template, context).lower() for where, template in match.items()}
    return [r for r in records if all(str(pointer(r, w)).lower() == v for w, v in wanted.items())]


class HttpConnector(Connector):
    def __init__(self, systems: HttpSystems) -> None:
        self._systems = systems

    # -- one call, rendered from its template ----------------------------------------------------
    def _url(self, task: SystemTaskInput, call: Mapping[str, Any], context: Mapping[str, Any]) -> Page:
        """The call's URL and query, filled in (values in the path are percent-encoded)."""
        base = self._systems.secrets.resolve_url(task.step.connector["base_url"])
        try:
            url = base + render(call["path"], context, escape=lambda v: quote(v, safe=""))
            return Page(url, {k: render(str(v), context) for k, v in call.get("query", {}).items()})
        except MissingValue:
            raise
        except (TemplateError, KeyError) as exc:
            raise ConnectorError(f"system {task.step.system}: {exc}", retryable=False) from exc

    async def _call(
        self, task: SystemTaskInput, call: Mapping[str, Any], context: Mapping[str, Any],
        page: Page | None = None, ok: tuple[int, ...] = (),
    ) -> Reply:  # fmt: skip
        spec = task.step.connector
        method = call.get("method", "GET").upper()
        shown = f"system {task.step.system}: {method} {call.get('path')}"
        page = page or self._url(task, call, context)
        try:
            body = _fields(call["json"], context) if "json" in call else None
            form = {k: str(v) for k, v in _fields(call["form"], context).items()} if "form" in call else None
        except TemplateError as exc:
            raise ConnectorError(f"{shown}: {exc}", retryable=False) from exc
        return await self._systems.call(
            f"{task.tenant}/{task.step.system}", spec, method, page.url, shown=shown, query=page.query,
            body=body, form=form, ok_statuses=ok,
        )  # fmt: skip

    async def _listing(
        self, task: SystemTaskInput, call: Mapping[str, Any], context: Mapping[str, Any]
    ) -> list[Record]:
        """Every record of a (possibly paged) listing; [] when it answers an ``absent`` status."""
        absent = tuple(call.get("absent", ()))
        pages = pagination_for(call.get("pagination"))
        records: list[Record] = []
        page: Page | None = pages.first(self._url(task, call, context))
        for _ in range(pages.max_pages):
            assert page is not None
            reply = await self._call(task, call, context, page, ok=absent)
            if reply.status in absent:
                return records
            found = pointer(reply.body, call.get("records", ""))
            batch = [found] if isinstance(found, dict) else [r for r in (found or []) if isinstance(r, dict)]
            records.extend(batch)
            page = pages.next(page, reply.body, reply.headers, len(batch))
            if page is None:
                return records
        raise ConnectorError(
            f"system {task.step.system}: {call.get('path')}: more than {pages.max_pages} pages"
        )

    # -- finding the person ------------------------------------------------------------------------
    async def _find(self, task: SystemTaskInput) -> list[Record]:
        """The records of the subject, merged by id across the pack's searches."""
        searches = task.step.connector.get("find") or []
        if not searches:
            raise ConnectorError(f"system {task.step.system}: an http system needs 'find'", retryable=False)
        found: dict[str, Record] = {}
        for search in searches:
            records = []
            asked: set[str] = set()  # one call per distinct search, whichever identifier fills it
            for subject in _subjects(task):
                context = _context(task, subject=subject)
                try:
                    page = self._url(task, search, context)
                    match = {where: render(t, context) for where, t in search.get("match", {}).items()}
                    key = f"{page.url} {sorted(page.query.items())} {sorted(match.items())}"
                    if key in asked:
                        continue
                    asked.add(key)
                    listed = await self._listing(task, search, context)
                    records.extend(_matching(listed, search.get("match", {}), context))
                except MissingValue as missing:
                    if missing.path.startswith("subject."):
                        continue  # this search needs an identity the request does not carry
                    raise ConnectorError(f"system {task.step.system}: {missing}", retryable=False) from None
            for record in records:
                key = pointer(record, search.get("id", "/id"))
                if key is None:
                    raise ConnectorError(
                        f"system {task.step.system}: a record found by {search.get('path')} has no id "
                        f"at {search.get('id', '/id')}", retryable=False,
                    )  # fmt: skip
                found.setdefault(
                    str(key), {"resource": search.get("resource", "record"), **record, "id": key}
                )
        return list(found.values())

    async def locate(self, task: SystemTaskInput) -> int:
        return len(await self._find(task))

    async def _verified(self, task: SystemTaskInput) -> dict[str, Any]:
        """Look the person up again until nothing remains: search indexes lag behind writes."""
        spec = task.step.connector.get("verify", {})
        within = float(spec.get("within_seconds", 15))
        every = float(spec.get("every_seconds", 0.5))
        deadline = time.monotonic() + within
        checks = 0
        while True:
            remaining = await self.locate(task)
            checks += 1
            if remaining == 0:
                return {"remaining": 0, "checks": checks}
            if time.monotonic() >= deadline:
                raise ConnectorError(
                    f"system {task.step.system}: still finds {remaining} record(s) {within:.0f} s after "
                    f"{task.step.action}; will look again"
                )
            await asyncio.sleep(every)

    # -- the actions -------------------------------------------------------------------------------
    async def export(self, task: SystemTaskInput) -> ConnectorResult:
        found = await self._find(task)
        records: list[Record] = list(found)
        counts = Counter(r["resource"] for r in found)
        for listing in task.step.connector.get("related", []):
            for record in found:
                try:
                    related = await self._listing(task, listing, _context(task, record))
                except MissingValue as missing:
                    raise ConnectorError(f"system {task.step.system}: {missing}", retryable=False) from None
                resource = listing.get("resource", "related")
                records.extend({"resource": resource, **r} for r in related)
                counts[resource] += len(related)
        outcome = "exported" if records else "not_found"
        return ConnectorResult(outcome, evidence={"records_by_resource": dict(counts)}, records=records)

    async def locate_then_perform(
        self, task: SystemTaskInput, keep_count: Callable[[int], Awaitable[int]]
    ) -> tuple[int, ConnectorResult]:
        """An erasure or anonymisation acts on the records its count found, milliseconds earlier
        in the same attempt: every search is a call the API's rate limit counts (bench (b): the
        support desk's 20 calls a second were what bounded a burst of UPJUNOO erasures)."""
        if task.step.action not in VERIFIED_ACTIONS:
            return await super().locate_then_perform(task, keep_count)
        found = await self._find(task)
        kept = await keep_count(len(found))
        return kept, await self._change(task, verify=True, found=found)

    async def _change(
        self, task: SystemTaskInput, verify: bool, found: list[Record] | None = None
    ) -> ConnectorResult:
        """Run the action's calls for each record found (looked up now unless given); verify
        when the person must be gone."""
        action = task.step.action
        plan = task.step.connector.get(action)
        if not plan or not plan.get("calls"):
            raise ConnectorError(
                f"system {task.step.system}: no '{action}' calls in the pack", retryable=False
            )
        if found is None:
            found = await self._find(task)
        answers: Counter[str] = Counter()
        jobs: Counter[str] = Counter()
        for record in found:
            previous: Any = None
            for call in plan["calls"]:
                context = _context(task, record, previous)
                try:
                    reply = await self._call(task, call, context, ok=tuple(call.get("gone", ())))
                except MissingValue as missing:
                    raise ConnectorError(f"system {task.step.system}: {missing}", retryable=False) from None
                answers[f"{call.get('method', 'GET').upper()} {call['path']} {reply.status}"] += 1
                previous = reply.body if reply.body is not None else {}
                if "poll" in call and reply.status not in tuple(call.get("gone", ())):
                    jobs[await self._poll(task, call["poll"], _context(task, record, previous))] += 1
        evidence: dict[str, Any] = {"found": len(found), "calls": dict(answers)}
        if jobs:
            evidence["jobs"] = dict(jobs)
        if not found:
            return ConnectorResult("not_found", evidence=evidence)
        if verify:
            evidence["verified"] = await self._verified(task)
        return ConnectorResult(done_outcome(action, task.request_type), evidence=evidence)

    async def _poll(self, task: SystemTaskInput, poll: Mapping[str, Any], context: Mapping[str, Any]) -> str:
        """Follow an asynchronous job (a two-step delete) until its status says it is done."""
        status_at = poll.get("status", "/status")
        done, failed = set(poll.get("done", ["completed"])), set(poll.get("failed", ["failed"]))
        deadline = time.monotonic() + float(poll.get("within_seconds", 20))
        job = {"method": "GET", "path": poll["path"]}
        while True:
            try:
                reply = await self._call(task, job, context)
            except MissingValue as missing:
                raise ConnectorError(f"system {task.step.system}: {missing}", retryable=False) from None
            status = str(pointer(reply.body, status_at))
            if status in done:
                return status
            if status in failed:
                raise ConnectorError(f"system {task.step.system}: the job at {poll['path']} {status}")
            if time.monotonic() >= deadline:
                raise ConnectorError(
                    f"system {task.step.system}: the job at {poll['path']} is still {status}"
                )
            await asyncio.sleep(float(poll.get("every_seconds", 0.5)))

    async def erase(self, task: SystemTaskInput) -> ConnectorResult:
        return await self._change(task, verify=True)

    async def anonymise(self, task: SystemTaskInput) -> ConnectorResult:
        return await self._change(task, verify=True)

    async def rectify(self, task: SystemTaskInput) -> ConnectorResult:
        if not task.details.get("corrections"):
            raise ConnectorError("a rectification needs details.corrections", retryable=False)
        return await self._change(task, verify=False)

    async def restrict(self, task: SystemTaskInput) -> ConnectorResult:
        return await self._change(task, verify=False)

    async def stop_processing(self, task: SystemTaskInput) -> ConnectorResult:
        return await self._change(task, verify=False)

    async def act_on_batch(
        self, step: SystemStep, batch_id: str, tenant: str, subjects: list[BatchSubject]
    ) -> BatchResult:
        """A consent batch, one subject at a time: SaaS APIs have no bulk unsubscribe we rely on."""
        concurrency = int(step.connector.get("limits", {}).get("concurrency", 4))
        return await self.act_one_by_one(step, batch_id, tenant, subjects, concurrency=concurrency)

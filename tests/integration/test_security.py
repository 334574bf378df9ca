"""Who may do what through the API, and the codec endpoint that lets a DPO read payloads."""

from __future__ import annotations

import base64

import aiohttp

from tests.integration.conftest import TOKENS, RunningStack, rights_request


async def test_roles_limit_who_reads_reports_and_who_acts(stack: RunningStack):
    await stack.reseed()
    request = rights_request("access", {"email": "chloe@example.org"})
    await stack.publish(request)
    await stack.closed(request["request_id"])
    rid = request["request_id"]

    status, body = await stack.api("GET", f"/v1/requests/{rid}", role=None)
    assert status == 401 and "token" in body["error"]
    status, _ = await stack.api("GET", f"/v1/requests/{rid}", role="viewer")
    assert status == 200
    status, body = await stack.api("GET", f"/v1/requests/{rid}/report", role="viewer")
    assert status == 403 and "dpo" in body["error"]
    status, body = await stack.api("GET", f"/v1/requests/{rid}/report", role="operator")
    assert status == 403
    status, _ = await stack.api("GET", f"/v1/requests/{rid}/report", role="dpo")
    assert status == 200
    status, body = await stack.api("POST", f"/v1/requests/{rid}/extension", {"reason": "x"}, role="viewer")
    assert status == 403 and "operator" in body["error"]
    status, body = await stack.api("POST", f"/v1/requests/{rid}/extension", {"reason": "x"}, role="operator")
    assert status == 409, "an operator may act; this request is simply closed"
    status, body = await stack.api(
        "POST",
        "/v1/holds",
        {"tenant": "upjunoo", "subject": {"email": "x@example.org"}, "reason": "r"},
        role="operator",
    )
    assert status == 403, "legal holds are the DPO's"
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            f"{stack.settings.api_url}/v1/requests/{rid}",
            headers={"Authorization": "Bearer forged-token-000000000"},
        ) as response,
    ):
        assert response.status == 401


async def test_the_temporal_ui_codec_endpoint_decrypts_for_a_dpo_only(stack: RunningStack):
    request = rights_request("access", {"email": "chloe@example.org"})
    await stack.publish(request)
    await stack.closed(request["request_id"])
    history = await stack.client.get_workflow_handle(
        f"privacy-request-{request['request_id']}"
    ).fetch_history()
    stored = history.events[0].workflow_execution_started_event_attributes.input.payloads[0]
    body = {
        "payloads": [
            {
                "metadata": {k: base64.b64encode(v).decode() for k, v in stored.metadata.items()},
                "data": base64.b64encode(stored.data).decode(),
            }
        ]
    }
    api = stack.settings.api_url
    ui = stack.settings.temporal_ui_url
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{api}/codec/{TOKENS['dpo']}/decode", json=body, headers={"Origin": ui}) as r:
            assert r.status == 200
            assert r.headers["Access-Control-Allow-Origin"] == ui
            decoded = (await r.json())["payloads"][0]
        assert b"chloe@example.org" in base64.b64decode(decoded["data"])
        async with http.post(f"{api}/codec/{TOKENS['viewer']}/decode", json=body) as r:
            assert r.status == 403
        async with http.post(f"{api}/codec/decode", json=body) as r:
            assert r.status == 401
        async with http.options(f"{api}/codec/decode", headers={"Origin": ui}) as r:
            assert r.status == 204 and "Authorization" in r.headers["Access-Control-Allow-Headers"]

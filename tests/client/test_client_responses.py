"""Response handles and out-of-band responses, client <-> the real embedded server.

``create_response`` returns a :class:`ResponseHandle`; an out-of-band request
(``conversation: "none"``) leaves at once, beside the in-band response, and its output reaches
only its handle (issue 12, point 6).
"""

from __future__ import annotations

import asyncio

import pytest

from realtime_widget.client import ResponseError, ResponseHandle, ResponseResult
from realtime_widget.server import LocalRealtimeServer, ScriptedBrain
from realtime_widget.server.state import MAX_OUT_OF_BAND_RESPONSES
from tests.helpers import UNIT

LONG = "Once upon a time there was a long story that went on and on, until someone spoke up."


async def connected(make_client, url: str, **options):
    client, probe = make_client(url, **options)
    await client.connect_async()
    await client.wait_for_session_created_async(5 * UNIT)
    return client, probe


def summary_request(**fields) -> dict:
    return {
        "conversation": "none",
        "output_modalities": ["text"],
        "instructions": "Summarize the conversation so far in one line.",
        "metadata": {"purpose": "summary"},
        **fields,
    }


async def wait(handle: ResponseHandle, timeout: float = 10 * UNIT) -> ResponseResult:
    return await asyncio.wait_for(handle, timeout)


async def test_client_sends_out_of_band_request_while_in_band_audio_streams(make_client):
    async with LocalRealtimeServer(speed=2.0, brain=ScriptedBrain([LONG])) as srv:
        client, probe = await connected(make_client, srv.url)
        client.send_user_message_content("tell me a story")
        await probe.received_type("response.output_audio.delta")
        [user] = [i for i in client.conversation.get_items() if i["role"] == "user"]
        summary = client.create_response(
            summary_request(input=[{"type": "item_reference", "id": user["id"]}])
        )
        result = await wait(summary)
        # Concurrency: the summary ended while the story was still being told.
        assert len(probe.received("response.done")) == 1 and client.response_active
        assert result.out_of_band and result.status == "completed"
        assert result.text == "You said: tell me a story" == result.output
        assert result.metadata == {"purpose": "summary"} and result.usage["total_tokens"] > 0
        assert result.items[0]["type"] == "message" and summary.id == result.id
        await probe.received_type("response.done", 2, timeout=30 * UNIT)
        # Its items are not the conversation's; the story's are.
        ids = {i["id"] for i in client.conversation.get_items()}
        assert result.items[0]["id"] not in ids
        assert [i["role"] for i in client.conversation.get_items()] == ["user", "assistant"]
        assert client.conversation.get_items()[-1]["formatted"]["transcript"] == LONG
        assert not probe.of("error")
        assert client.usage["responses"] == 2


async def test_client_never_queues_out_of_band_request_behind_in_band_ones(make_client):
    async with LocalRealtimeServer(speed=2.0, brain=ScriptedBrain([LONG])) as srv:
        client, probe = await connected(make_client, srv.url)
        client.send_user_message_content("tell me a story")
        await probe.received_type("response.created")
        queued = client.create_response()  # in-band: waits for the story to end
        summary = client.create_response(summary_request())
        await wait(summary)
        creates = probe.sent("response.create")
        assert [c.get("response", {}).get("conversation") for c in creates] == [None, "none"]
        assert not queued.done()
        result = await wait(queued, 30 * UNIT)
        assert not result.out_of_band and result.status == "completed"
        assert len(probe.sent("response.create")) == 3


async def test_client_in_band_handle_gives_audio_transcript_and_blocking_result(make_client):
    async with LocalRealtimeServer(speed=0) as srv:
        client, probe = await connected(make_client, srv.url)
        client.send_user_message_content([{"type": "input_text", "text": "hello"}])
        await probe.received_type("response.done")
        handle = client.create_response({"instructions": "again"})
        result = await asyncio.to_thread(handle.result, 10 * UNIT)  # a notebook's blocking call
        assert result.transcript == "You said: hello" and len(result.audio) > 2400
        assert result.items[0]["id"] == client.conversation.get_items()[-1]["id"]
        assert repr(handle).startswith(f"<ResponseHandle {result.id} in-band completed")


async def test_client_on_response_reports_every_response_with_its_handle(make_client, server):
    client, probe = await connected(make_client, server.url)
    finished: list[dict] = []
    client.on_response(finished.append)
    client.send_user_message_content("hello")  # no handle asked for: the tracker makes one
    summary = client.create_response(summary_request())
    await wait(summary)
    await probe.until(lambda: len(finished) == 2)
    kinds = sorted((e["out_of_band"], e["status"]) for e in finished)
    assert kinds == [(False, "completed"), (True, "completed")]
    assert any(e["handle"] is summary for e in finished)
    assert all(e["handle"].result().id == e["response_id"] for e in finished)


async def test_client_cancels_out_of_band_response_by_its_handle(make_client):
    async with LocalRealtimeServer(speed=1.0, brain=ScriptedBrain([LONG])) as srv:
        client, probe = await connected(make_client, srv.url)
        client.send_user_message_content("tell me a story")
        await probe.received_type("response.output_audio.delta")
        spoken = client.create_response(summary_request(output_modalities=["audio"]))
        spoken.cancel()  # before its response.created: sent as soon as it has an id
        with pytest.raises(ResponseError, match="cancelled") as info:
            await wait(spoken)
        assert info.value.result.status == "cancelled" and info.value.result.out_of_band
        [cancel] = probe.sent("response.cancel")
        assert cancel["response_id"] == spoken.id
        assert client.response_active  # the story goes on
        await probe.received_type("response.done", 2, timeout=30 * UNIT)
        statuses = [e["response"]["status"] for e in probe.received("response.done")]
        assert statuses == ["cancelled", "completed"]


async def test_client_handle_of_refused_out_of_band_request_raises_the_servers_reason(
    make_client, server
):
    client, probe = await connected(make_client, server.url)
    bad = client.create_response(summary_request(input=[{"type": "item_reference", "id": "x"}]))
    with pytest.raises(ResponseError, match="refused") as info:
        await wait(bad)
    result = info.value.result
    assert result.status == "refused" and result.error["code"] == "item_not_found"
    assert result.error["event_id"] == probe.sent("response.create")[0]["event_id"]
    good = client.create_response(summary_request())  # the session goes on
    assert (await wait(good)).status == "completed"


async def test_client_handles_beyond_server_limit_are_refused_and_others_complete(make_client):
    async with LocalRealtimeServer(speed=0.5, brain=ScriptedBrain([])) as srv:
        client, probe = await connected(make_client, srv.url)
        client.send_user_message_content("hello")
        await probe.received_type("response.done")
        spoken = summary_request(output_modalities=["audio"])
        handles = [client.create_response(spoken) for _ in range(MAX_OUT_OF_BAND_RESPONSES + 1)]
        with pytest.raises(ResponseError, match="at most 4") as info:
            await wait(handles[-1])
        assert info.value.result.error["code"] == "too_many_active_responses"
        for handle in handles[:-1]:
            handle.cancel()
        for handle in handles[:-1]:
            with pytest.raises(ResponseError, match="cancelled"):
                await wait(handle)
        assert (await wait(client.create_response(summary_request()))).status == "completed"


async def test_client_refuses_handles_beyond_its_own_bound(make_client, server, monkeypatch):
    monkeypatch.setattr("realtime_widget.client._client.MAX_OUTSTANDING", 2)
    client, _probe = await connected(make_client, server.url)
    first, second = client.create_response(), client.create_response()
    with pytest.raises(RuntimeError, match="await some of their handles first"):
        client.create_response(summary_request())
    await wait(first)
    await wait(second)
    assert (await wait(client.create_response(summary_request()))).status == "completed"


async def test_client_rejects_response_settings_that_are_not_a_dict(make_client, server):
    client, probe = await connected(make_client, server.url)
    with pytest.raises(TypeError, match="must be a dict"):
        client.create_response("summarize")  # type: ignore[arg-type]
    assert not probe.sent("response.create")


async def test_client_reconnect_fails_out_of_band_handle_and_resends_queued_in_band_one(
    make_client,
):
    from realtime_widget.testing.faults import Fault, FaultProxy

    async with (
        LocalRealtimeServer(speed=1.0, brain=ScriptedBrain([LONG])) as srv,
        FaultProxy(srv.url) as proxy,
    ):
        client, probe = await connected(make_client, proxy.url, reconnect_delay=0.05 * UNIT)
        client.send_user_message_content("tell me a story")
        await probe.received_type("response.output_audio.delta")
        spoken = client.create_response(summary_request(output_modalities=["audio"]))
        queued = client.create_response({"instructions": "Carry on."})
        await probe.until(lambda: len(probe.received("response.created")) == 2)
        proxy.add(Fault("drop", match="response.output_audio.delta"))
        with pytest.raises(ResponseError, match="lost") as info:
            await wait(spoken)
        assert info.value.result.status == "lost"
        await probe.until(lambda: probe.of("reconnected"))
        result = await wait(queued, 30 * UNIT)  # asked again in the new session, same handle
        assert result.status == "completed" and not result.out_of_band
        resent = probe.sent("response.create")[-1]
        assert resent["response"] == {"instructions": "Carry on."}


async def test_client_out_of_band_handle_works_in_the_beta_dialect(make_client, server):
    client, probe = await connected(make_client, server.url, dialect="beta")
    client.send_user_message_content("hello")
    result = await wait(client.create_response(summary_request()))
    assert result.out_of_band and result.text.startswith("You said:")
    await probe.received_type("response.done", 2)
    assert len(client.conversation.get_items()) == 2 and not probe.of("error")

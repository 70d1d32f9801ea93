"""The loopback Anthropic server speaks the Messages API over real HTTP: JSON, SSE, errors,
usage with prompt caching, and its fault and latency knobs."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from fakes.anthropic_server import Reply, count_tokens, default_responder
from omnipostr.repurpose import platforms as pf
from omnipostr.repurpose.engines import prompting
from omnipostr.repurpose.engines.base import Options, Source
from omnipostr.repurpose.engines.offline import build_variant

ROOT = Path(__file__).resolve().parents[2]
ARTICLE = (ROOT / "tests" / "fixtures" / "articles" / "postgres-indexes.md").read_text()
KEY = "sk-ant-fake-0123456789abcdef"
HEADERS = {"x-api-key": KEY, "anthropic-version": "2023-06-01", "content-type": "application/json"}


def body_for(platform="x", *, stream=False, options=None, max_tokens=2048, text=ARTICLE):
    prompt = prompting.build(Source("", text), platform, options or Options())
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": max_tokens,
        "system": prompt.system,
        "messages": prompt.messages,
        "stream": stream,
    }


def post(fake, body, headers=HEADERS, timeout=10.0):
    return httpx.post(fake.base_url + "/v1/messages", json=body, headers=headers, timeout=timeout)


def sse_events(response) -> list[tuple[str, dict]]:
    events = []
    for block in response.text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.split("\n"))
        events.append((lines["event"], json.loads(lines["data"])))
    return events


# --- protocol -------------------------------------------------------------------------------


def test_missing_key_is_401_in_anthropics_error_shape(fake):
    r = post(fake, body_for(), headers={"anthropic-version": "2023-06-01"})
    assert r.status_code == 401
    assert r.json()["type"] == "error"
    assert r.json()["error"] == {
        "type": "authentication_error",
        "message": "x-api-key header is required",
    }
    assert r.headers["request-id"].startswith("req_")
    assert r.json()["request_id"] == r.headers["request-id"]


def test_wrong_key_and_missing_version_are_refused(fake):
    fake.configure(api_keys=["right-key"])
    r = post(fake, body_for())
    assert r.status_code == 401 and r.json()["error"]["message"] == "invalid x-api-key"
    ok = post(fake, body_for(), headers={**HEADERS, "x-api-key": "right-key"})
    assert ok.status_code == 200
    bearer = {"authorization": "Bearer right-key", "anthropic-version": "2023-06-01"}
    assert post(fake, body_for(), headers=bearer).status_code == 200
    r = post(fake, body_for(), headers={"x-api-key": "right-key"})
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"


def test_bad_bodies_are_400(fake):
    r = httpx.post(fake.base_url + "/v1/messages", content=b"{not json", headers=HEADERS)
    assert r.status_code == 400
    r = post(fake, {"model": "claude-sonnet-4-5", "messages": []})
    assert r.status_code == 400
    assert (
        "max_tokens" in r.json()["error"]["message"] and "messages" in r.json()["error"]["message"]
    )


def test_json_answer_is_a_message_with_usage(fake):
    r = post(fake, body_for("linkedin"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    message = r.json()
    assert message["id"].startswith("msg_") and message["type"] == "message"
    assert message["role"] == "assistant" and message["model"] == "claude-sonnet-4-5"
    assert message["stop_reason"] == "end_turn" and message["stop_sequence"] is None
    [block] = message["content"]
    variant = prompting.parse("linkedin", block["text"])
    assert pf.validate("linkedin", variant) == []  # the default answer is a valid post
    usage = message["usage"]
    assert set(usage) >= {
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
    }
    assert usage["output_tokens"] == count_tokens(block["text"])


def test_streaming_sends_the_real_event_sequence(fake):
    r = post(fake, body_for("x", stream=True))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    assert r.headers["request-id"].startswith("req_")
    events = sse_events(r)
    names = [name for name, _ in events]
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert set(names[3:-3]) == {"content_block_delta"} and len(names) > 8
    assert all(data["type"] == name for name, data in events)
    start = events[0][1]["message"]
    assert start["usage"]["input_tokens"] > 0 and start["content"] == []
    text = "".join(d["delta"]["text"] for n, d in events if n == "content_block_delta")
    final = events[-2][1]
    assert final["delta"]["stop_reason"] == "end_turn"
    assert final["usage"]["output_tokens"] == count_tokens(text)
    assert pf.validate("x", prompting.parse("x", text)) == []


def test_max_tokens_cuts_the_answer(fake):
    r = post(fake, body_for("linkedin", max_tokens=20))
    message = r.json()
    assert message["stop_reason"] == "max_tokens"
    assert len(message["content"][0]["text"]) == 80 and message["usage"]["output_tokens"] == 20


def test_responder_override_and_the_request_log(fake):
    calls = []

    def responder(call):
        calls.append(call)
        return Reply("### POST 1\nShort.", stop_reason="end_turn")

    fake.responder = responder
    r = post(fake, body_for("bluesky", options=Options(emoji="none")))
    assert r.json()["content"][0]["text"] == "### POST 1\nShort."
    [call] = calls
    assert call.platform == "bluesky" and call.number == 1 and call.prompt.options.emoji == "none"
    [record] = fake.requests
    assert record.platform == "bluesky" and record.status == 200 and record.path == "/v1/messages"
    assert record.body["model"] == "claude-sonnet-4-5"
    assert "x-api-key" not in record.headers and KEY not in json.dumps(record.to_dict())
    over_http = httpx.get(fake.base_url + "/_fake/requests").json()
    assert over_http[0]["platform"] == "bluesky" and KEY not in json.dumps(over_http)
    assert httpx.delete(fake.base_url + "/_fake/requests").json() == []
    assert fake.requests == []


def test_the_default_answer_is_the_offline_take_of_the_prompted_document(fake):
    calls = []

    def responder(call):
        calls.append(call)
        return default_responder(call)

    fake.responder = responder
    source = Source("", ARTICLE)
    first = post(fake, body_for("linkedin")).json()["content"][0]["text"]
    again = post(fake, body_for("linkedin", options=Options(variation=1, previous_take=first)))
    [call, later] = calls
    # The source comes from the document block of the user turn, not from the system prompt.
    assert call.prompt.source.document.prose_text() == source.document.prose_text()
    assert first == prompting.render(build_variant(call.prompt.source, "linkedin", Options()))
    # "Regenerate": the take asked for is the offline engine's next one, not the same post.
    assert (later.prompt.options.variation, later.prompt.options.previous_take) == (1, first.strip())
    assert again.json()["content"][0]["text"] != first


# --- prompt caching -------------------------------------------------------------------------


def test_cache_write_then_read_then_expiry(fake):
    fake.configure(cache_ttl=0.3)
    first = post(fake, body_for("x")).json()["usage"]
    assert first["cache_creation_input_tokens"] > 1024 and first["cache_read_input_tokens"] == 0
    second = post(fake, body_for("linkedin")).json()["usage"]
    assert second["cache_read_input_tokens"] == first["cache_creation_input_tokens"]
    assert second["cache_creation_input_tokens"] == 0
    assert second["input_tokens"] < first["cache_creation_input_tokens"]  # only the platform part
    other = post(fake, body_for("x", options=Options(tone="bold"))).json()["usage"]
    assert other["cache_read_input_tokens"] == 0 and other["cache_creation_input_tokens"] > 0
    time.sleep(0.35)
    expired = post(fake, body_for("threads")).json()["usage"]
    assert expired["cache_read_input_tokens"] == 0 and expired["cache_creation_input_tokens"] > 0


def test_short_prefixes_are_not_cached_and_the_total_is_kept(fake):
    short = "A short source. It has two sentences."
    usage = post(fake, body_for("x", text=short)).json()["usage"]
    assert usage["cache_creation_input_tokens"] == usage["cache_read_input_tokens"] == 0
    fake.configure(cache_min_tokens=0)
    written = post(fake, body_for("x", text=short)).json()["usage"]
    assert written["cache_creation_input_tokens"] > 0
    assert (
        sum(written[k] for k in ("input_tokens", "cache_creation_input_tokens"))
        == usage["input_tokens"]
    )


# --- knobs and faults ----------------------------------------------------------------------


def test_time_to_first_token_and_tokens_per_second(fake):
    fake.configure(ttft=0.25, tps=200)
    started = time.perf_counter()
    with httpx.stream(
        "POST", fake.base_url + "/v1/messages", json=body_for("x", stream=True), headers=HEADERS
    ) as r:
        lines = r.iter_lines()
        first = next(line for line in lines if line.startswith("data:"))
        first_event = time.perf_counter() - started
        words = next(line for line in lines if line.startswith("data:") and '"text_delta"' in line)
        first_words = time.perf_counter() - started
        for _ in lines:
            pass
    total = time.perf_counter() - started
    assert json.loads(first[5:])["type"] == "message_start"
    assert 0.25 <= first_event < 0.4
    # the first words come with the first event, not a token's time later
    assert json.loads(words[5:])["delta"]["text"] and first_words - first_event < 0.05
    output = fake.requests[-1].usage["output_tokens"]
    assert output > 40  # so the pace below is long enough to see
    assert total >= 0.25 + (output - 10) / 200 * 0.9


@pytest.mark.parametrize(
    ("kind", "status", "error_type"),
    [
        ("rate_limit", 429, "rate_limit_error"),
        ("overloaded", 529, "overloaded_error"),
        ("server_error", 500, "api_error"),
    ],
)
def test_status_faults_apply_to_the_next_n_requests(fake, kind, status, error_type):
    fake.fail_next(kind, 2, retry_after=3, retry_after_ms=2500)
    for _ in range(2):
        r = post(fake, body_for())
        assert r.status_code == status and r.json()["error"]["type"] == error_type
        assert r.headers["retry-after"] == "3" and r.headers["retry-after-ms"] == "2500"
        assert r.headers["x-should-retry"] == "true"
    assert post(fake, body_for()).status_code == 200
    assert [q.fault for q in fake.requests] == [kind, kind, None]


def test_faults_can_target_one_platform(fake):
    fake.fail_next("overloaded", 1, platform="linkedin")
    assert post(fake, body_for("x")).status_code == 200
    assert post(fake, body_for("linkedin")).status_code == 529
    assert post(fake, body_for("linkedin")).status_code == 200


def test_random_faults_are_repeatable_with_a_seed(fake):
    def run():
        fake.reset()
        fake.fail_randomly("server_error", 0.5, seed=7)
        return [post(fake, body_for("x", text="Short text here.")).status_code for _ in range(12)]

    first = run()
    assert first == run()
    assert 2 <= first.count(500) <= 10 and first.count(200) >= 2


def test_a_dropped_connection_ends_the_stream_mid_answer(fake):
    fake.fail_next("drop", after_tokens=20)
    with pytest.raises(httpx.RemoteProtocolError):
        with httpx.stream(
            "POST", fake.base_url + "/v1/messages", json=body_for("x", stream=True), headers=HEADERS
        ) as r:
            received = []
            for line in r.iter_lines():
                received.append(line)
    assert any("content_block_delta" in line for line in received)
    assert not any("message_stop" in line for line in received)
    assert post(fake, body_for("x")).status_code == 200  # the server itself is fine


def test_malformed_and_error_events_mid_stream(fake):
    fake.fail_next("malformed")
    r = post(fake, body_for("x", stream=True))
    last = r.text.strip().split("\n\n")[-1]
    with pytest.raises(json.JSONDecodeError):
        json.loads(last.split("data: ", 1)[1])
    fake.fail_next("stream_error")
    events = sse_events(post(fake, body_for("x", stream=True)))
    assert events[-1] == (
        "error",
        {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
    )
    fake.fail_next("malformed")
    r = post(fake, body_for("x"))
    with pytest.raises(json.JSONDecodeError):
        r.json()


def test_admin_endpoint_sets_knobs_and_faults(fake):
    r = httpx.post(
        fake.base_url + "/_fake/config",
        json={
            "ttft": 0.01,
            "tps": 500,
            "faults": [{"kind": "overloaded", "count": 1, "platform": "x"}],
        },
    )
    assert r.status_code == 200
    assert r.json()["ttft"] == 0.01 and r.json()["tps"] == 500
    assert r.json()["faults"][0]["kind"] == "overloaded"
    assert post(fake, body_for("x")).status_code == 529
    bad = httpx.post(
        fake.base_url + "/_fake/config", json={"faults": [{"kind": "gremlins", "count": 1}]}
    )
    assert bad.status_code == 400 and "unknown fault" in bad.json()["error"]
    stats = httpx.get(fake.base_url + "/_fake/stats").json()
    assert stats["requests"] == 1 and stats["in_flight"] == 0 and stats["max_in_flight"] == 1
    assert httpx.post(fake.base_url + "/_fake/reset").json()["requests"] == 0
    assert fake.knobs["tps"] == 0.0


def test_command_line_server_for_demos():
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fakes.anthropic_server",
            "--port",
            "0",
            "--ttft",
            "0",
            "--tps",
            "0",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert "listening on http://127.0.0.1:" in line
        base = line.rsplit(" ", 1)[1].strip()
        r = httpx.post(base + "/v1/messages", json=body_for("threads"), headers=HEADERS, timeout=10)
        assert r.status_code == 200 and r.json()["content"][0]["text"].startswith("### POST 1")
    finally:
        proc.terminate()
        assert proc.wait(10) == 0

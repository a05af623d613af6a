"""``o1embed serve`` through the real openai client: vectors equal O1Encoder's, OpenAI errors, batching, 503, key.

The tiny tests serve a model trained here for a few steps; the slow one serves the real SmolLM2 backbone through
the ``o1embed serve`` command in a subprocess.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

import httpx
import numpy as np
import openai
import pytest

from o1embed.tasks.llm_server import free_port
from o1embed.trainer.encoder import EncoderConfig, O1Encoder
from o1embed.trainer.launcher import launch_training
from o1embed.trainer.serving.app import build_app
from o1embed.trainer.serving.config import ServeConfig
from tests.trainer.run_config import tiny_config
from tests.trainer.serving.server import running

QUERIES = ["what is a cell", "rain water storm", "why stars", "bank money loan"]
DOCS = ["cells divide membrane", "rain clouds water", "stars fusion light"]


@pytest.fixture(scope="module")
def trained_tiny(tiny_model_dir, toy_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("served") / "run"
    return launch_training(tiny_config(tiny_model_dir, toy_data, out, max_steps=3)).model_dir


def encoder(model_dir, cache) -> O1Encoder:
    return O1Encoder(model_dir, EncoderConfig(max_new_tokens=8, cache_dir=str(cache), query_batch_size=64))


@pytest.fixture(scope="module")
def served(trained_tiny, tmp_path_factory):
    cache = tmp_path_factory.mktemp("server-cache")
    cfg = ServeConfig(name="tiny", max_input_tokens=64, max_items_per_request=16, batch_window_ms=20)
    with running(build_app(encoder(trained_tiny, cache), cfg)) as url:
        yield url


def cosines(a, b) -> np.ndarray:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def vectors(resp) -> np.ndarray:
    assert [d.index for d in resp.data] == list(range(len(resp.data)))
    return np.array([d.embedding for d in resp.data])


def test_vectors_equal_the_encoders(served, trained_tiny, tmp_path):
    client = openai.OpenAI(base_url=served, api_key="unused", max_retries=0)
    ref = encoder(trained_tiny, tmp_path / "ref-cache")  # its own thought cache: nothing shared with the server
    want_q, want_d = ref.encode_query(QUERIES), ref.encode_document(DOCS)
    q = client.embeddings.create(model="tiny-query", input=QUERIES)  # the client asks for base64
    assert cosines(vectors(q), want_q).min() >= 0.999
    d = client.embeddings.create(model="tiny-document", input=DOCS, encoding_format="float")
    assert cosines(vectors(d), want_d).min() >= 0.999
    assert q.model == "tiny-query" and q.usage.prompt_tokens > 0
    one = client.embeddings.create(model="tiny", input=QUERIES[0], extra_body={"input_type": "query"})
    assert cosines(vectors(one), want_q[:1]).min() >= 0.999
    bare = client.embeddings.create(model="tiny", input=QUERIES, extra_body={"input_type": "query", "think": False})
    assert cosines(vectors(bare), ref.encode_query(QUERIES, think=False)).min() >= 0.999
    names = {m.id for m in client.models.list()}
    assert names == {"tiny", "tiny-query", "tiny-document"}


def status_and_error(call) -> tuple[int, dict]:
    with pytest.raises(openai.APIStatusError) as info:
        call()
    return info.value.status_code, info.value.response.json()["error"]


def test_bad_inputs_get_openai_errors_and_the_server_keeps_serving(served):
    client = openai.OpenAI(base_url=served, api_key="unused", max_retries=0)
    cases = [
        (lambda: client.embeddings.create(model="tiny-query", input=[]), 400, "input"),
        (lambda: client.embeddings.create(model="tiny-query", input=["ok", 3]), 400, "input[1]"),
        (lambda: client.embeddings.create(model="tiny-query", input=[[1, 2, 3]]), 400, "input[0]"),
        (lambda: client.embeddings.create(model="tiny-document", input=["  "]), 400, "input[0]"),
        (lambda: client.embeddings.create(model="tiny-query", input=["cell " * 65]), 413, "input[0]"),
        (lambda: client.embeddings.create(model="tiny-query", input=["cell"] * 17), 413, "input"),
        (lambda: client.embeddings.create(model="no-such-model", input=["cell"]), 404, "model"),
        (
            lambda: client.embeddings.create(model="tiny", input=["cell"], extra_body={"input_type": "x"}),
            400,
            "input_type",
        ),
        (
            lambda: client.embeddings.create(model="tiny-query", input=["cell"], dimensions=7),
            400,
            "dimensions",
        ),
    ]
    for call, status, param in cases:
        got, err = status_and_error(call)
        assert (got, err["param"]) == (status, param), err
        assert set(err) == {"message", "type", "param", "code"} and err["message"]
        assert client.embeddings.create(model="tiny-document", input=["cells"]).data  # still serving
    bad_json = httpx.post(f"{served}/embeddings", content=b"{nope", headers={"content-type": "application/json"})
    assert bad_json.status_code == 400 and bad_json.json()["error"]["code"] == "invalid_json"
    assert httpx.get(f"{served}/nothing-here").json()["error"]["type"] == "invalid_request_error"
    errors = httpx.get(served.removesuffix("/v1") + "/metrics").json()["errors_by_status"]
    assert errors["400"] >= 6 and errors["413"] >= 2 and errors["404"] >= 2


def test_200_concurrent_requests_all_answer_in_batches(served):
    metrics = served.removesuffix("/v1") + "/metrics"
    before = httpx.get(metrics).json()

    async def main():
        client = openai.AsyncOpenAI(base_url=served, api_key="unused", max_retries=0)
        calls = [
            client.embeddings.create(
                model="tiny-query" if i % 2 else "tiny-document", input=[f"{QUERIES[i % 4]} {DOCS[i % 3]}"]
            )
            for i in range(200)
        ]
        return await asyncio.gather(*calls)

    answers = asyncio.run(main())
    assert len(answers) == 200 and all(len(a.data) == 1 and len(a.data[0].embedding) == 32 for a in answers)
    after = httpx.get(metrics).json()
    assert after["requests"] - before["requests"] == 200 and after["items"] - before["items"] == 200
    batches = after["batches"] - before["batches"]
    assert batches < 200 and after["max_batch_size"] > 1, after  # requests shared batches
    health = httpx.get(served.removesuffix("/v1") + "/health").json()
    assert health["status"] == "ok" and health["counters"]["mean_batch_size"] > 1


def test_overload_gets_503_and_the_server_recovers(trained_tiny, tmp_path):
    cfg = ServeConfig(name="tiny", max_pending_items=4, batch_window_ms=300)
    with running(build_app(encoder(trained_tiny, tmp_path / "c"), cfg)) as url:

        async def main():
            async with httpx.AsyncClient(timeout=60) as http:
                body = {"model": "tiny-document", "input": ["cells divide"]}
                return await asyncio.gather(*(http.post(f"{url}/embeddings", json=body) for _ in range(30)))

        codes = [r.status_code for r in asyncio.run(main())]
        assert 200 in codes and 503 in codes, codes
        refused = [r for r in asyncio.run(main()) if r.status_code == 503][0].json()["error"]
        assert refused["code"] == "overloaded" and refused["type"] == "server_error"
        client = openai.OpenAI(base_url=url, api_key="unused", max_retries=0)
        assert client.embeddings.create(model="tiny-document", input=["cells"]).data
        assert httpx.get(url.removesuffix("/v1") + "/metrics").json()["rejected_overloaded"] >= 1


def test_api_key_from_the_environment(trained_tiny, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("TEST_O1_KEY", "s3cret-key-value")
    cfg = ServeConfig(name="tiny", api_key_env="TEST_O1_KEY")
    with running(build_app(encoder(trained_tiny, tmp_path / "c"), cfg)) as url:
        wrong = openai.OpenAI(base_url=url, api_key="wrong", max_retries=0)
        status, err = status_and_error(lambda: wrong.embeddings.create(model="tiny-document", input=["x"]))
        assert status == 401 and err["code"] == "invalid_api_key"
        right = openai.OpenAI(base_url=url, api_key="s3cret-key-value", max_retries=0)
        assert right.embeddings.create(model="tiny-document", input=["cells"]).data
    assert "s3cret-key-value" not in caplog.text


@pytest.mark.slow
@pytest.mark.real
def test_serve_command_on_the_real_smollm2_backbone(smollm2_dir, tmp_path):
    port = free_port()
    env = dict(os.environ, O1EMBED_DATA=str(tmp_path / "data"))
    cmd = [sys.executable, "-m", "o1embed.flows.cli", "serve", str(smollm2_dir), "--name", "smol"]
    cmd += ["--port", str(port), "--max-new-tokens", "12"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 300
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"o1embed serve exited: {proc.stderr.read()[-3000:]}")
            try:
                if httpx.get(url.removesuffix("/v1") + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("o1embed serve did not come up")
            time.sleep(1)
        client = openai.OpenAI(base_url=url, api_key="unused", max_retries=0)
        ref = O1Encoder(
            smollm2_dir,
            EncoderConfig(max_new_tokens=12, cache_dir=str(tmp_path / "ref"), query_batch_size=64),
        )
        q = client.embeddings.create(model="smol-query", input=QUERIES[:2])
        assert cosines(vectors(q), ref.encode_query(QUERIES[:2])).min() >= 0.999
        d = client.embeddings.create(model="smol-document", input=DOCS)
        assert cosines(vectors(d), ref.encode_document(DOCS)).min() >= 0.999
        status, _ = status_and_error(lambda: client.embeddings.create(model="smol-query", input=[]))
        assert status == 400
        status, _ = status_and_error(lambda: client.embeddings.create(model="gpt-4", input=["x"]))
        assert status == 404
        assert client.embeddings.create(model="smol-document", input=["still serving"]).data
    finally:
        proc.terminate()
        proc.wait(30)

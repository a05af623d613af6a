"""``o1embed serve``: the encoder it serves takes any EncoderConfig field from --set."""

from __future__ import annotations

from typer.testing import CliRunner

from o1embed.flows.cli.serve import register
from tests.trainer.tiny import build_tiny_model
from tests.typer_app import app_with


def test_serve_passes_set_fields_to_the_encoder(tmp_path, monkeypatch):
    import uvicorn

    served = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.update(app=app, **kw))
    monkeypatch.setattr("o1embed.trainer.serving.app.build_app", lambda enc, cfg: served.update(encoder=enc) or "app")
    model = build_tiny_model(tmp_path / "model")
    args = ["serve", str(model), "--port", "0", "--set", "decider=gate", "--set", "close_threshold=0.6"]
    result = CliRunner().invoke(app_with(register), args)
    assert result.exit_code == 0, result.output
    cfg = served["encoder"].config
    assert (cfg.decider, cfg.close_threshold, cfg.query_batch_size) == ("gate", 0.6, 64)
    bad = CliRunner().invoke(app_with(register), ["serve", str(model), "--set", "decider=coin"])
    assert bad.exit_code == 2 and "decider" in bad.output

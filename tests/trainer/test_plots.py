"""The loss-curve PNG: up to four curves; the LM and decision curves leave out steps that had none of theirs."""

from __future__ import annotations

import o1embed.tasks.figures
from o1embed.trainer.plots import plot_losses


def test_lm_curve_skips_steps_without_thought_tokens(tmp_path, monkeypatch):
    figures = []

    def capture(fig, dpi=None):
        figures.append(fig)
        return b"\x89PNG"

    monkeypatch.setattr(o1embed.tasks.figures, "png_bytes", capture)
    records = [
        {
            "step": s,
            "loss": 2.0 / s,
            "contrastive": 2.0 / s,
            "lm": 0.0 if s % 2 else 1.5,
            "thought_tokens": 0 if s % 2 else 9,
        }
        for s in range(1, 5)
    ]
    path = plot_losses(records, tmp_path / "loss.png")
    assert path.read_bytes() == b"\x89PNG"
    lines = {line.get_label(): line for line in figures[0].axes[0].lines}
    assert list(lines["LM (thought tokens)"].get_xdata()) == [2, 4]
    assert list(lines["total"].get_xdata()) == [1, 2, 3, 4]
    assert plot_losses([], tmp_path / "none.png") is None


def test_decision_curve_only_where_the_log_has_decisions(tmp_path, monkeypatch):
    figures = []
    monkeypatch.setattr(o1embed.tasks.figures, "png_bytes", lambda fig, dpi=None: figures.append(fig) or b"")
    old = [{"step": 1, "loss": 1.0, "contrastive": 1.0, "lm": 1.0}]  # a log from before the decision loss
    new = [
        {"step": s, "loss": 1.0, "contrastive": 1.0, "lm": 1.0, "decision": 0.7, "decisions": s % 2} for s in (1, 2, 3)
    ]
    plot_losses(old, tmp_path / "old.png")
    plot_losses(new, tmp_path / "new.png")
    labels = [[line.get_label() for line in f.axes[0].lines] for f in figures]
    assert "decision (BCE of p_close)" not in labels[0]
    lines = {line.get_label(): line for line in figures[1].axes[0].lines}
    assert list(lines["decision (BCE of p_close)"].get_xdata()) == [1, 3]

"""The loss-curve PNG: three curves; the LM curve leaves out steps that had no thought tokens."""

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

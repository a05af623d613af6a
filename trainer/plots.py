"""Loss curves of a training run as a PNG (matplotlib, headless).

Example:
    >>> plot_losses([{"step": 1, "loss": 2.0, "contrastive": 2.2, "lm": 1.1}], Path("/tmp/loss.png"))  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path


def plot_losses(records: list[dict], path: Path, title: str = "O1 joint training") -> Path | None:
    """Plot total, contrastive, LM and decision loss against the step; returns the path, or None without records.

    The LM curve skips steps without thought tokens (``thought_tokens == 0``), whose LM loss is logged as 0; the
    decision curve skips steps without a decision (``decisions == 0``) and logs from before it existed.
    """
    if not records:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from o1embed.tasks.atomic import write_bytes_atomic
    from o1embed.tasks.figures import png_bytes

    fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
    window = max(1, len(records) // 20)  # moving average over ~5% of the run; raw values faint behind it
    curves = (
        ("loss", "total"),
        ("contrastive", "contrastive (InfoNCE)"),
        ("lm", "LM (thought tokens)"),
        ("decision", "decision (BCE of p_close)"),
    )
    present = {  # a step's batch may hold no thought token (LM logged as 0) or no decision: leave those steps out
        "lm": lambda r: r.get("thought_tokens", 1) > 0,
        "decision": lambda r: r.get("decisions", 0) > 0,
    }
    for key, label in curves:
        kept = [r for r in records if key in r and present.get(key, lambda _: True)(r)]
        if not kept:
            continue
        steps, values = [r["step"] for r in kept], [r[key] for r in kept]
        if window == 1:
            ax.plot(steps, values, label=label, linewidth=1.2)
            continue
        line = ax.plot(steps, values, linewidth=0.6, alpha=0.3)[0]
        smooth = [sum(values[max(0, i - window + 1) : i + 1]) / min(i + 1, window) for i in range(len(values))]
        ax.plot(steps, smooth, color=line.get_color(), label=f"{label} (mean of {window})", linewidth=1.4)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return write_bytes_atomic(path, png_bytes(fig))

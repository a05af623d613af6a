"""The report page's table helper (the whole page is tested through reports in ``test_report.py``)."""

from __future__ import annotations

from o1embed.tasks.evaluation.markdown import markdown_table


def test_markdown_table_formats_numbers():
    assert markdown_table(["a", "b"], [["x", 0.12345]]) == "| a | b |\n| --- | --- |\n| x | 0.123 |"
    assert markdown_table(["d"], [[0.05]], signed=True).endswith("| +0.050 |")

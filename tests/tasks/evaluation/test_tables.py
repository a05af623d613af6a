"""The report's tables: the paired randomisation test (the summary and deltas are tested through whole reports in
``test_report.py`` and ``test_thinking_modes_report.py``)."""

from __future__ import annotations

import pytest

from o1embed.tasks.evaluation.tables import paired_p_value


def test_paired_p_value():
    assert paired_p_value([1.0] * 6, [0.0] * 6) == pytest.approx(2 / 64)  # exact: 2 of 2^6 sign patterns
    assert paired_p_value([0.3, 0.5], [0.3, 0.5]) == 1.0
    mixed = paired_p_value([0.1, 0.9, 0.4, 0.6, 0.5, 0.2], [0.2, 0.8, 0.5, 0.5, 0.4, 0.3])
    assert 0.5 < mixed <= 1.0

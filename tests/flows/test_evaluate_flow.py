from __future__ import annotations

import polars as pl

from tests.tasks.evaluation.toy import write_toy_beir


def test_evaluate_flow_writes_the_report_and_artifacts(prefect_api, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    from o1embed.flows.evaluate import evaluate_flow
    from o1embed.tasks.evaluation.config import EvalConfig

    folders = [write_toy_beir(tmp_path, "toy"), write_toy_beir(tmp_path, "toy_arguana", identical=True)]
    config = EvalConfig(
        datasets=[str(f) for f in folders],
        systems=[
            "bm25",
            {"name": "bm25-rank", "kind": "bm25", "options": {"kind": "rank_bm25"}, "baseline": "bm25"},
        ],
        out_dir=str(tmp_path / "report"),
    )
    state = evaluate_flow(config, return_state=True)
    assert state.is_completed(), state
    report = state.result()
    assert evaluate_flow.name == "evaluate"
    per_query = pl.read_parquet(tmp_path / "report" / "per_query.parquet")
    assert per_query.height == 2 * 2 * 8
    assert set(per_query["dataset"]) == {"toy", "toy_arguana"}
    assert (tmp_path / "report" / "metrics.png").is_file()
    assert "| bm25-rank |" in (tmp_path / "report" / "report.md").read_text()
    assert report.deltas.height == 2  # bm25-rank against bm25 on both sets

    with get_client(sync_client=True) as client:
        arts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id]))
        )
    by_key = {a.key: a for a in arts}
    assert {"evaluation-report", "evaluation-summary", "evaluation-deltas"} <= set(by_key)
    assert by_key["evaluation-report"].type == "markdown"
    assert "nDCG@10" in by_key["evaluation-report"].data
    assert by_key["evaluation-summary"].type == "table"

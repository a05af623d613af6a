"""The wheel installs our folders under one namespace, ``o1embed``, and leaves ``tasks`` to the user.

The repository keeps the user's layout (``flows/ tasks/ trainer/`` at its root); ``pyproject.toml`` maps them to
``o1embed.flows``, ``o1embed.tasks`` and ``o1embed.trainer``. This test builds the real wheel, installs it into a
fresh virtualenv (dependencies come from this environment's site-packages through a ``.pth`` line, so nothing is
downloaded), and runs it from a user folder that has a ``tasks.py`` of its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FOLDERS = ("flows", "tasks", "trainer")


def _run(cmd: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, f"{cmd} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}"
    return out


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def test_wheel_installs_under_o1embed_beside_a_users_own_tasks_module(tmp_path: Path) -> None:
    env = _clean_env()
    wheels = tmp_path / "wheels"
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheels),
            str(REPO),
        ],
        tmp_path,
        env,
    )
    (wheel,) = wheels.glob("o1embed-*.whl")

    # Every module of the three folders is in the wheel, under o1embed/ (a sub-package left out of pyproject's
    # `packages` list would be missing here), and nothing lands at the top level of site-packages.
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        f"o1embed/{p.relative_to(REPO).as_posix()}"
        for folder in FOLDERS
        for p in (REPO / folder).rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert expected - names == set(), f"modules missing from the wheel: {sorted(expected - names)}"
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))}
    assert top == {"o1embed"}, f"the wheel installs top-level names other than o1embed: {top}"

    target = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(target)
    py = target / "bin" / "python"
    _run(
        [sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "-q", str(wheel)],
        tmp_path,
        env,
    )
    site = Path(
        _run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp_path, env).stdout.strip()
    )
    # The dependencies (torch, prefect, ...) are this environment's; the .pth line adds that folder to sys.path
    # without running its own .pth files, so this checkout's editable install stays out of the new venv.
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    user = tmp_path / "user_project"
    user.mkdir()
    (user / "tasks.py").write_text('OWNER = "the user"\n')
    probe = (
        "import tasks, o1embed.tasks.ingest as ingest, o1embed.trainer.model, o1embed.flows.synthesize;"
        "print(tasks.OWNER); print(ingest.__file__)"
    )
    out = _run([str(py), "-c", probe], user, env).stdout.splitlines()
    assert out[0] == "the user"
    assert Path(out[1]).is_relative_to(site), f"o1embed was imported from {out[1]}, not the new venv"

    help_out = _run([str(target / "bin" / "o1embed"), "--help"], user, env).stdout
    for command in ("synthesize", "committee", "train", "evaluate", "inspect"):
        assert command in help_out

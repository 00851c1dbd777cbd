"""The dependency direction of STYLE.md, checked by import-linter on every run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_dependencies_point_one_way():
    proc = subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--config", "pyproject.toml"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "KEPT" in proc.stdout


def test_only_storage_imports_minio_and_only_pdf_imports_weasyprint():
    offenders = []
    for path in ROOT.glob("*/**/*.py"):
        if ".venv" in path.parts or "tests" in path.parts or "bench" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        if ("import minio" in text or "from minio" in text) and path.name != "storage.py":
            offenders.append(str(path))
        if ("import weasyprint" in text or "from weasyprint" in text) and path.name != "pdf.py":
            offenders.append(str(path))
    assert not offenders

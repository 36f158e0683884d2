"""The study packages themselves (`pipeline/studies/<study>/__init__.py`) stay light (pipeline/studies/__init__.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "transformers", "mlflow", "pandas", "numpy", "sklearn", "scipy", "matplotlib", "open_clip", "sacrebleu")


def test_importing_every_study_package_imports_no_heavy_library():
    # A fresh interpreter: this one has long imported everything.
    script = (
        "import importlib, json, pkgutil, sys\n"
        "import pipeline.studies as studies\n"
        "names = [m.name for m in pkgutil.iter_modules(studies.__path__) if m.ispkg]\n"
        "for name in names:\n"
        "    importlib.import_module(f'pipeline.studies.{name}')\n"
        f"print(json.dumps([names, [m for m in {HEAVY!r} if m in sys.modules]]))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    names, heavy = json.loads(result.stdout)
    assert set(names) == {p.parent.name for p in (ROOT / "pipeline/studies").glob("*/__init__.py")}
    assert heavy == []

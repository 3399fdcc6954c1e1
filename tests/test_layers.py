"""The layers import downward only (ARCHITECTURE.md): core <- model <- realtime <- train, web, tools.

Read from the source with ``ast``, imports inside functions and under TYPE_CHECKING included, except that a
TYPE_CHECKING import may name a higher layer's type (a drawing needs the shape of a result, not its code).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ALLOWED = {  # package -> project packages it may import
    "core": {"core"},
    "model": {"core", "model"},
    "realtime": {"core", "model", "realtime"},
    "train": {"core", "model", "realtime", "train"},
    "web": {"core", "model", "realtime", "web"},  # serving never needs the training package
}
# train may use the live loop's modules only where it truly shares them: the tracker (photos and recordings are
# tracked the same way), the photo hand finder, the camera and video reader, the sidecar reader and the labeling
# tool's window size.
TRAIN_USES_FROM_REALTIME = {
    "realtime.capture",
    "realtime.tracking",
    "realtime.photos",
    "realtime.recording",
    "realtime.overlay",
}


def project_imports(path: Path) -> list[str]:
    """Modules of the project that ``path`` imports at run time (TYPE_CHECKING blocks left out)."""
    tree = ast.parse(path.read_text())
    type_only = {
        id(n)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for n in ast.walk(node)
    }
    names = []
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
    return [n for n in names if n.split(".")[0] in ALLOWED]


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_each_layer_imports_only_itself_and_the_layers_below(package):
    wrong = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for name in project_imports(path)
        if name.split(".")[0] not in ALLOWED[package]
        or (package == "train" and name.startswith("realtime") and name not in TRAIN_USES_FROM_REALTIME)
    }
    assert not wrong, sorted(wrong)


def test_the_layer_check_sees_a_wrong_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from typing import TYPE_CHECKING\nimport train.fit\nif TYPE_CHECKING:\n    from run import x\n")
    assert project_imports(bad) == ["train.fit"]


def test_reading_recordings_and_labels_loads_neither_torch_nor_mediapipe():
    """The labeling tool and the smoother are light: the heavy libraries load only where a model or tracker runs."""
    import subprocess
    import sys

    code = (
        "import sys, train.label, realtime.smoothing, realtime.overlay, realtime.sinks; "
        "print(sorted(m for m in ('torch', 'mediapipe') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"

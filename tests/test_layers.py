"""The package's layers: imports flow one way (vision -> analysis -> live/history ->
server/cli), and `posture --help` imports nothing heavy."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "posture"
RANK = {"vision": 1, "analysis": 2, "history": 3, "live": 3, "server": 4, "cli": 5}
SIBLINGS = {("live", "history"), ("history", "live")}


def layer(module: str) -> str | None:
    """The layer a posture module belongs to; None for the shared base (errors, config...)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in RANK else None


def imports_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("posture"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("posture"))
    return found


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    return ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)


def test_imports_flow_one_way():
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        here = module_name(path)
        if here == "posture.__main__":
            continue
        mine = layer(here)
        for imported in imports_of(path):
            theirs = layer(imported)
            if theirs is None:
                continue
            if mine is None or RANK[theirs] > RANK[mine] or (mine, theirs) in SIBLINGS:
                wrong.append(f"{here} imports {imported}")
    assert not wrong, "\n".join(sorted(wrong))


@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_help_and_version_import_nothing_heavy(flag):
    script = ("import sys\nfrom posture.cli import main\n"
              f"try:\n    main([{flag!r}])\nexcept SystemExit:\n    pass\n"
              "heavy = {'mediapipe', 'cv2', 'numpy', 'fastapi', 'uvicorn', 'pydantic', "
              "'starlette'}\n"
              "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"

"""The code testyard puts on the test process's path: its pytest plugin and, as the
top-level module ``testyard``, the test-side helpers (``testyard.pending``,
``testyard.once_per_run``, the ``env_vars`` fixture). Only pytest and the standard
library are imported by it, so it works in any run environment."""

from __future__ import annotations

import compileall
import hashlib
import shutil
import tempfile
from pathlib import Path

import testyard.pytest_plugin as plugin_package

PLUGIN_DIR = Path(plugin_package.__file__).parent
#: The fork server program, relative to the runtime directory; also run as a program.
FORKSERVER = Path("testyard/pytest_plugin/forkserver.py")


def helpers_source() -> str:
    """The self-contained helpers module; exports carry it as ``testyard.py``."""
    return (PLUGIN_DIR / "helpers.py").read_text(encoding="utf-8")


def prepare_runtime(root: Path) -> Path:
    """A directory for PYTHONPATH holding the plugin; rebuilt when the plugin changes."""
    sources = sorted(PLUGIN_DIR.glob("*.py"))
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()[:12]
    target = root / f"runtime-{digest}"
    if (target / ".ready").exists():
        return target
    root.mkdir(parents=True, exist_ok=True)
    # Each builder uses its own directory; the first rename wins.
    building = Path(tempfile.mkdtemp(prefix=f"runtime-{digest}.", dir=root))
    package = building / "testyard" / "pytest_plugin"
    package.mkdir(parents=True)
    for source in sources:
        shutil.copy2(source, package / source.name)
    (building / "testyard" / "__init__.py").write_text(helpers_source(), encoding="utf-8")
    compileall.compile_dir(building, quiet=1)
    for path in [building, *building.rglob("*")]:
        path.chmod(0o755 if path.is_dir() or path.name == FORKSERVER.name else 0o644)
    (building / ".ready").touch()
    try:
        building.rename(target)
    except OSError:  # another run built it at the same moment
        shutil.rmtree(building, ignore_errors=True)
    return target

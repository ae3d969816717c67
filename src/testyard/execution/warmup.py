"""Readies this machine for runs as it starts, in the background: the default run
environment (pytest, xdist and the plugins, for projects without requirements) is
built now rather than by the first run, which would wait for it (seconds, with uv)."""

from __future__ import annotations

import logging
import threading

from testyard.config import Settings
from testyard.execution.pyenvs import EnvironmentFailed, ensure_environment

log = logging.getLogger(__name__)


def warm_up(settings: Settings) -> threading.Thread:
    """Start building the default environment; a run that needs it meanwhile waits on
    the same lock, and a failure here is the first run's to report."""

    def build() -> None:
        try:
            ensure_environment(settings.resolved_work_dir / "envs", [], settings.run_python)
        except (EnvironmentFailed, OSError) as exc:
            log.warning("the default run environment could not be built yet: %s", exc)

    thread = threading.Thread(target=build, name="warm-up", daemon=True)
    thread.start()
    return thread

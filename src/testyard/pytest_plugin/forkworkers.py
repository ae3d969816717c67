"""Has xdist start its workers through the fork server (see ``forkserver.py``).

Loaded (``-p``) into the controller of a run that has a fork server. xdist starts
each worker as ``sys.executable -u -c BOOTSTRAP``; pointing ``sys.executable`` at the
fork server's client, just before the workers start, makes each of them a fork of an
interpreter that has pytest and the plugins imported. Only the controller's value
changes, and the controller runs no test; the workers keep the real interpreter.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

from testyard.pytest_plugin.forkserver import ADDRESS_ENV

CLIENT = Path(__file__).with_name("forkserver.py")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_setupnodes(config: pytest.Config, specs: list[Any]) -> None:
    if os.environ.get(ADDRESS_ENV) and os.access(CLIENT, os.X_OK):  # a run with a server
        sys.executable = str(CLIENT)

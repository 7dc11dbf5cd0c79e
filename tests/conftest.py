"""Shared fixtures: private shared-memory dirs, root-only tests, network namespaces."""

from __future__ import annotations

import os

import pytest


def pytest_collection_modifyitems(config, items):
    """Tests marked `root` skip, with the reason shown, when not run as root."""
    if os.geteuid() == 0:
        return
    skip = pytest.mark.skip(
        reason="needs root (network namespaces, veth, AF_PACKET): run the suite as root"
    )
    for item in items:
        if "root" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def shm(tmp_path, monkeypatch):
    """A private directory for pipes (inherited by child processes); must end empty."""
    d = tmp_path / "shm"
    d.mkdir()
    monkeypatch.setenv("NMTOOLS_SHM_DIR", str(d))
    yield d

"""Fixtures shared by the xenpv-win tests: the stand-in RPM repository and throwaway RPM roots."""
from __future__ import annotations

import pytest

from tests.support import rpmrepo


@pytest.fixture(scope="session")
def repo():
    """The four stand-in xenpv-win packages in a local dnf repository, built once."""
    return rpmrepo.stand_in_repository()


@pytest.fixture
def install_root(tmp_path, repo):
    """An empty RPM root that knows only the stand-in repository."""
    return rpmrepo.make_install_root(str(tmp_path), repo)

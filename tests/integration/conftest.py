"""Fixtures shared by the integration tests: the stand-in RPM repository and throwaway RPM roots (xenpv-win),
and the real sshd on 127.0.0.1 that the runs over SSH and the +ssh libvirt URIs use."""
from __future__ import annotations

import os
import subprocess

import pytest

from tests.support import rpmrepo
from tests.support.harness import REPO

# scripts/setup-sshd.sh: its own sshd instance, loopback only, keys only.
SSH_HOST = "127.0.0.1"
SSH_PORT = 2222
SSH_KEY = "/root/.ssh/virt_libvirt_test_ed25519"
SSH_USER = "vltssh"  # not root, passwordless sudo (become)


@pytest.fixture(scope="session")
def repo():
    """The four stand-in xenpv-win packages in a local dnf repository, built once."""
    return rpmrepo.stand_in_repository()


@pytest.fixture
def install_root(tmp_path, repo):
    """An empty RPM root that knows only the stand-in repository."""
    return rpmrepo.make_install_root(str(tmp_path), repo)


@pytest.fixture(scope="session")
def sshd():
    """The test sshd, set up (idempotently) by scripts/setup-sshd.sh: a fresh CI machine has none yet."""
    if os.geteuid() != 0:
        pytest.skip("scripts/setup-sshd.sh installs and starts an sshd and authorises a key for root: run as root")
    setup = subprocess.run(["bash", str(REPO / "scripts" / "setup-sshd.sh")], capture_output=True, text=True,
                           timeout=900, check=False)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    return {"host": SSH_HOST, "port": SSH_PORT, "key": SSH_KEY, "user": SSH_USER}

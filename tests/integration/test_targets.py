"""Every integration target (tests/integration/targets/<name>/, ansible-test's layout) run the way ansible-test's
runners run them: the built collection installed, `ansible-test integration --local` (as root, destructive
allowed), with the targets' own defaults for URIs and the guest domain type. Only this run's name prefix and
image directory are given (tests/integration/integration_config.yml), so that everything a target makes is
cleaned up with the run. A target fails when any of its tasks fails (assertions included)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.harness import REPO, ansible_env

pytestmark = pytest.mark.integration

TARGETS_DIR = REPO / "tests" / "integration" / "targets"
BIN = Path(sys.executable).parent


def _targets():
    return sorted(path.name for path in TARGETS_DIR.iterdir()
                  if (path / "tasks" / "main.yml").is_file() and "hidden" not in (path / "aliases").read_text())


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The collection built and installed into a directory of its own, as a runner gets it."""
    root = tmp_path_factory.mktemp("targets")
    build = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(root), str(REPO)],
                           capture_output=True, text=True, env=ansible_env(), check=False)
    assert build.returncode == 0, build.stdout + build.stderr
    (tarball,) = root.glob("virt-libvirt-*.tar.gz")
    install = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", "--no-deps", "--force", "-p",
                              str(root / "collections"), str(tarball)],
                             capture_output=True, text=True, env=ansible_env(), check=False)
    assert install.returncode == 0, install.stdout + install.stderr
    return root / "collections" / "ansible_collections" / "virt" / "libvirt"


@pytest.mark.parametrize("target", _targets())
def test_target(target, installed, run_prefix, test_driver_uri, image_dir):
    config = {"name_prefix": "%s-%s" % (run_prefix, target.replace("_", "")), "image_dir": image_dir}
    (installed / "tests" / "integration" / "integration_config.yml").write_text(yaml.safe_dump(config))
    env = dict(os.environ, PATH="%s:%s" % (BIN, os.environ["PATH"]))  # ansible-test finds this venv's python first
    process = subprocess.run([str(BIN / "ansible-test"), "integration", "--local", "--allow-destructive", "--color",
                              "no", "--python", "%d.%d" % sys.version_info[:2], target],
                             capture_output=True, text=True, cwd=str(installed), env=env, timeout=1800, check=False)
    output = process.stdout + process.stderr
    assert process.returncode == 0, "target %s failed:\n%s" % (target, output[-8000:])
    assert "Running %s integration test role" % target in output, output[-4000:]
    recap = [line for line in output.splitlines() if line.startswith("testhost")]
    assert recap and " failed=0 " in recap[-1] and " ok=" in recap[-1], recap
    assert "All assertions passed" in output, "target %s checked nothing:\n%s" % (target, output[-4000:])

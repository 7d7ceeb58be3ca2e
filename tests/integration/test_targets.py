"""Every integration target (tests/integration/targets/<name>/tasks/main.yml) run by ansible-playbook
against the real daemon. A target fails when any of its tasks fails (assertions included)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.harness import REPO, ansible_env, run_playbook

pytestmark = pytest.mark.integration

TARGETS_DIR = REPO / "tests" / "integration" / "targets"
RUNNER = REPO / "tests" / "support" / "run_target.yml"


def _targets():
    return sorted(path.name for path in TARGETS_DIR.iterdir() if (path / "tasks" / "main.yml").is_file())


@pytest.mark.parametrize("target", _targets())
def test_target(target, run_prefix, qemu_uri, test_driver_uri, kvm_domain_type, image_dir):
    run = run_playbook(RUNNER, extra_vars={
        "target_path": str(TARGETS_DIR / target),
        "name_prefix": "%s-%s" % (run_prefix, target.replace("_", "")),
        "qemu_uri": qemu_uri,
        "test_driver_uri": test_driver_uri,
        "kvm_domain_type": kvm_domain_type,
        "image_dir": image_dir,
    })
    assert run.returncode == 0, "target %s failed:\n%s\n%s" % (target, run.stdout[-8000:], run.stderr[-2000:])
    assertions = [r for r in run.records if r.get("action") in ("assert", "ansible.builtin.assert")]
    assert assertions and all(r["status"] in ("ok", "item_ok") for r in assertions), "target %s checked nothing" % target


def test_targets_through_ansible_test_integration(tmp_path, run_prefix, test_driver_uri, image_dir):
    """The targets as ansible-test's runners run them: the built collection installed, `ansible-test
    integration --local` (as root, destructive allowed), the targets' defaults for URIs and the domain type. Only
    this run's name prefix and image directory are given (tests/integration/integration_config.yml), so that
    everything it makes is cleaned up with the run."""
    bin_dir = Path(sys.executable).parent
    build = subprocess.run([str(bin_dir / "ansible-galaxy"), "collection", "build", "--output-path", str(tmp_path),
                            str(REPO)], capture_output=True, text=True, env=ansible_env(), check=False)
    assert build.returncode == 0, build.stdout + build.stderr
    (tarball,) = tmp_path.glob("virt-libvirt-*.tar.gz")
    install = subprocess.run([str(bin_dir / "ansible-galaxy"), "collection", "install", "--no-deps", "--force", "-p",
                              str(tmp_path / "collections"), str(tarball)],
                             capture_output=True, text=True, env=ansible_env(), check=False)
    assert install.returncode == 0, install.stdout + install.stderr
    installed = tmp_path / "collections" / "ansible_collections" / "virt" / "libvirt"
    config = {"name_prefix": "%s-at" % run_prefix, "image_dir": image_dir}
    (installed / "tests" / "integration" / "integration_config.yml").write_text(yaml.safe_dump(config))
    python = "%d.%d" % sys.version_info[:2]
    env = dict(os.environ, PATH="%s:%s" % (bin_dir, os.environ["PATH"]))
    process = subprocess.run([str(bin_dir / "ansible-test"), "integration", "--local", "--allow-destructive",
                              "--color", "no", "--python", python],
                             capture_output=True, text=True, cwd=str(installed), env=env, timeout=1800, check=False)
    output = process.stdout + process.stderr
    assert process.returncode == 0, output[-8000:]
    for target in _targets():
        assert "Running %s integration test role" % target in output, output[-4000:]
    assert "failed=0" in output and "failed=1" not in output

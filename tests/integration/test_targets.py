"""Every integration target (tests/integration/targets/<name>/tasks/main.yml) run by ansible-playbook
against the real daemon. A target fails when any of its tasks fails (assertions included)."""
from __future__ import annotations

import pytest

from tests.support.harness import REPO, run_playbook

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

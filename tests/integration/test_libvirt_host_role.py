"""The libvirt_host role on this machine, which has no systemd: check mode, a real run that starts a
stopped libvirt daemon directly, and an idempotent second run."""
from __future__ import annotations

import json
import subprocess

import pytest

from tests.support.harness import run_playbook

pytestmark = pytest.mark.integration

# virtlockd is a real libvirt daemon this machine does not need: the role can start it for real without
# disturbing the libvirtd the other tests use.
EXTRA_DAEMON = "virtlockd"


def daemon_running(name):
    return subprocess.run(["pgrep", "-x", name], capture_output=True, check=False).returncode == 0


def role_playbook(path, role_vars, gather_facts=False):
    """A playbook at ``path`` that applies the role to localhost with ``role_vars``."""
    path.write_text(json.dumps([{"hosts": "localhost", "gather_facts": gather_facts,
                                 "roles": [{"role": "virt.libvirt.libvirt_host", "vars": role_vars}]}]))
    return path


@pytest.fixture
def playbook(tmp_path):
    path = role_playbook(tmp_path / "libvirt_host.yml",
                         {"libvirt_host_direct_daemons": ["virtlogd", "libvirtd", EXTRA_DAEMON]}, gather_facts=True)
    started_here = not daemon_running(EXTRA_DAEMON)
    yield path
    if started_here:
        subprocess.run(["pkill", "-x", EXTRA_DAEMON], check=False)


def test_role_installs_starts_and_is_idempotent(playbook):
    if daemon_running(EXTRA_DAEMON):
        subprocess.run(["pkill", "-x", EXTRA_DAEMON], check=True)

    predicted = run_playbook(playbook, check=True)
    assert predicted.returncode == 0, predicted.stdout[-4000:]
    assert "virt.libvirt.libvirt_host : Daemons a real run would start (check mode)" in predicted.changed_tasks()
    assert not daemon_running(EXTRA_DAEMON)  # check mode started nothing

    applied = run_playbook(playbook)
    assert applied.returncode == 0, applied.stdout[-4000:]
    assert "virt.libvirt.libvirt_host : Start the daemons that do not run" in applied.changed_tasks()
    assert daemon_running(EXTRA_DAEMON)
    version = applied.task("virt.libvirt.libvirt_host : Wait for libvirt to answer at qemu:///system")
    assert version["ansible_facts"]["libvirt_capabilities"]["hypervisor"]["name"] == "QEMU"
    # the bindings the modules need on a managed host are there for the system Python
    subprocess.run(["/usr/bin/python3", "-c", "import libvirt, lxml"], check=True)

    again = run_playbook(playbook)
    assert again.returncode == 0, again.stdout[-4000:]
    assert again.changed_tasks() == []
    checked_again = run_playbook(playbook, check=True)
    assert checked_again.changed_tasks() == []


def test_argument_specs_refuse_bad_values(tmp_path):
    path = role_playbook(tmp_path / "bad.yml", {"libvirt_host_hypervisor": "vmware"})
    refused = run_playbook(path)
    assert refused.returncode != 0
    assert "libvirt_host_hypervisor" in refused.stdout and "vmware" in refused.stdout


def test_only_libvirt_daemons_are_started(tmp_path):
    """The daemon names become command arguments: anything but libvirt's own daemons is refused before a
    command runs."""
    marker = tmp_path / "ran"
    path = role_playbook(tmp_path / "bad_daemon.yml", {"libvirt_host_direct_daemons": ["virtlogd", "touch %s" % marker]})
    refused = run_playbook(path)
    assert refused.returncode != 0
    assert "libvirt_host_direct_daemons" in refused.stdout and "touch" in refused.stdout
    assert not marker.exists()


@pytest.mark.parametrize("platform, words", [
    ({"ansible_os_family": "RedHat", "ansible_distribution": "CentOS", "ansible_distribution_major_version": "8",
      "ansible_distribution_version": "8.5"}, "This host is CentOS 8.5"),
    ({"ansible_python": {"version": {"major": 3, "minor": 6}}}, "with Python 3.6"),
])
def test_hosts_the_modules_cannot_run_on_are_refused(tmp_path, platform, words):
    """Red Hat Enterprise Linux 8 (bindings for Python 3.6 only) and any Python older than 3.8: refused, naming
    the host, before anything is installed. The platform facts are overridden with extra variables, which take
    precedence over gathered facts."""
    path = role_playbook(tmp_path / "old_platform.yml", {}, gather_facts=True)
    refused = run_playbook(path, extra_vars=platform)
    assert refused.returncode != 0
    failure = refused.task("virt.libvirt.libvirt_host : Check that the role can serve this host")
    assert "libvirt_host serves hosts where the collection's modules can run" in failure["msg"] and words in failure["msg"]
    assert refused.changed_tasks() == []
    assert not [r for r in refused.records if "Install libvirt" in r["task"]]

"""The modules on a managed host with Python 3.8 (the oldest we support), run by ansible-playbook through
AnsiballZ as in production, and the "missing library" failures when lxml or libvirt-python is absent."""
from __future__ import annotations

import glob
import shutil
import subprocess
import textwrap

import pytest

from tests.support.harness import REPO, run_playbook

pytestmark = pytest.mark.integration

_CANDIDATES = sorted(glob.glob("/root/.pyenv/versions/3.8.*/bin/python3.8")) + [shutil.which("python3.8") or ""]
PYTHON38 = next((path for path in _CANDIDATES if path), None)


def _venv(path, *packages):
    if not (path / "bin" / "python").exists():
        subprocess.run([PYTHON38, "-m", "venv", str(path)], check=True)
    if packages:
        subprocess.run([str(path / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", *packages],
                       check=True, capture_output=True)
    return str(path / "bin" / "python")


@pytest.fixture(scope="module")
def python38():
    if PYTHON38 is None:
        pytest.skip("no Python 3.8 interpreter on this machine")
    return PYTHON38


@pytest.fixture(scope="module")
def python38_with_libraries(python38):
    """Kept under .build between runs: libvirt-python builds from source against the local libvirt."""
    path = REPO / ".build" / "py38-managed-host"
    ready = path / ".libraries-installed"
    interpreter = _venv(path, *(() if ready.exists() else ("lxml", "libvirt-python==9.0.0")))
    ready.touch()
    return interpreter


def inventory(tmp_path, interpreter):
    path = tmp_path / "inventory.ini"
    path.write_text("managed ansible_connection=local ansible_python_interpreter=%s\n" % interpreter)
    return path


PLAYBOOK = textwrap.dedent("""\
    - hosts: managed
      gather_facts: false
      tasks:
        - name: Define a Xen paravirtualized guest
          virt.libvirt.domain: &guest
            uri: "{{ uri }}"
            name: "{{ guest }}"
            type: xen
            memory: 128MiB
            os: {type: linux, kernel: /boot/vmlinuz, cmdline: " ro quiet"}
            disks: [{source: /var/lib/xen/py38.img, target: xvda}]
            interfaces: [{type: bridge, bridge: xenbr0, mac: "00:16:3E:00:00:38"}]
            state: running
          register: first
        - name: Define a Xen paravirtualized guest (idempotency)
          virt.libvirt.domain: *guest
          register: second
        - name: Remove it
          virt.libvirt.domain: {uri: "{{ uri }}", name: "{{ guest }}", state: absent}
          register: removed
    """)


def test_modules_run_on_python38(python38_with_libraries, tmp_path, test_driver_uri, unique_name):
    playbook = tmp_path / "py38.yml"
    playbook.write_text(PLAYBOOK)
    run = run_playbook(playbook, inventory=inventory(tmp_path, python38_with_libraries),
                       extra_vars={"uri": test_driver_uri, "guest": unique_name("py38")})
    assert run.returncode == 0, run.stdout[-4000:]
    first = run.task("Define a Xen paravirtualized guest")
    assert first["changed"] and first["domain"]["state"] == "running"
    assert not run.task("Define a Xen paravirtualized guest (idempotency)")["changed"]
    assert run.task("Remove it")["changed"]


@pytest.mark.parametrize("installed,missing", [((), "lxml"), (("lxml",), "libvirt-python")])
def test_missing_library_is_named(python38, tmp_path, installed, missing, test_driver_uri, unique_name):
    interpreter = _venv(tmp_path / "venv", *installed)
    playbook = tmp_path / "missing.yml"
    playbook.write_text(PLAYBOOK)
    run = run_playbook(playbook, inventory=inventory(tmp_path, interpreter),
                       extra_vars={"uri": test_driver_uri, "guest": unique_name("py38")})
    assert run.returncode != 0
    failure = run.task("Define a Xen paravirtualized guest")
    assert failure["msg"].startswith("Failed to import the required Python library (%s)" % missing), failure["msg"]
    assert "Traceback" not in failure["msg"]

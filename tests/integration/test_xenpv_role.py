"""The xenpv_win role and playbooks/xenpv_win.yml, for real: stand-in xenpv-win RPMs from a local
repository installed with dnf into throwaway RPM roots (never this machine's own database), Windows HVM
guests on libvirt's test driver getting the driver media as a CD-ROM, and the role's molecule scenario."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import yaml

from tests.support import rpmrepo
from tests.support.harness import REPO, ansible_env, run_playbook

pytestmark = pytest.mark.integration

RHEL_5_4 = "Red Hat Enterprise Linux Server release 5.4 (Tikanga)"
ROLE_PLAY = """\
- name: The xenpv_win role
  hosts: localhost
  gather_facts: false
  roles:
    - role: virt.libvirt.xenpv_win
"""


@pytest.fixture
def write_release(tmp_path):
    def write(text, name="redhat-release"):
        path = tmp_path / name
        path.write_text(text + "\n")
        return str(path)
    return write


@pytest.fixture
def role_play(tmp_path):
    path = tmp_path / "role.yml"
    path.write_text(ROLE_PLAY)
    return path


def hvm_xml(name, arch, disks):
    """A Windows HVM guest as Red Hat's example: C: on the emulated IDE disk, D: on the xen bus."""
    devices = "".join(
        "<disk type='file' device='%s'><source file='/var/lib/xen/images/%s-%s.img'/><target dev='%s' bus='%s'/></disk>"
        % (device, name, target, target, bus) for target, bus, device in disks)
    return ("<domain type='xen'><name>%s</name><memory>524288</memory><vcpu>1</vcpu><os><type arch='%s'>hvm</type>"
            "<loader>/usr/lib/xen/boot/hvmloader</loader><boot dev='hd'/></os><features><pae/><acpi/><apic/></features>"
            "<devices>%s</devices></domain>" % (name, arch, devices))


RED_HAT_EXAMPLE_DISKS = [("hda", "ide", "disk"), ("xvdb", "xen", "disk")]


@pytest.fixture
def define_guest(test_driver_uri, libvirt_connection):
    connection = libvirt_connection(test_driver_uri)
    defined = []

    def define(name, arch="x86_64", disks=None):
        disks = RED_HAT_EXAMPLE_DISKS if disks is None else disks
        defined.append(connection.defineXML(hvm_xml(name, arch, disks)))
        return defined[-1]

    yield define
    for domain in defined:
        domain.undefine()


def role_vars(release_file, install_root, test_driver_uri, **extra):
    options = {
        "xenpv_win_release_file": release_file,
        "xenpv_win_host_arch": "x86_64",
        "xenpv_win_uri": test_driver_uri,
        "xenpv_win_package_manager": "dnf",
        "xenpv_win_installroot": install_root,
        "xenpv_win_package_conf_file": rpmrepo.dnf_conf(install_root),
        "xenpv_win_releasever": "5Server",
        "ansible_python_interpreter": sys.executable,
    }
    options.update(extra)
    return options


def cdroms(domain):
    """(target, source) of each CD-ROM in the persistent definition."""
    from lxml import etree

    document = etree.fromstring(domain.XMLDesc(0))
    return [(disk.find("target").get("dev"), disk.find("source").get("file") if disk.find("source") is not None else None)
            for disk in document.iter("disk") if disk.get("device") == "cdrom"]


def hard_disks(domain):
    from lxml import etree

    document = etree.fromstring(domain.XMLDesc(0))
    return [disk.find("target").get("dev") for disk in document.iter("disk") if disk.get("device") == "disk"]


def test_mixed_guests_install_exactly_the_two_packages_attach_media_and_remove(
        role_play, write_release, install_root, test_driver_uri, define_guest, unique_name):
    xp, server = unique_name("xp"), unique_name("w2k3")
    xp_domain = define_guest(xp, arch="i686")
    server_domain = define_guest(server, arch="x86_64")
    options = role_vars(write_release(RHEL_5_4), install_root, test_driver_uri, xenpv_win_attach_media=True,
                        xenpv_win_guests=[{"name": xp, "os": "Windows XP, Service Pack 3", "free_space_mb": 300},
                                          {"name": server, "os": "Windows Server 2003 R2, Service Pack 2",
                                           "arch": 64, "free_space_mb": 300}])
    media_32 = install_root + rpmrepo.media_path("xenpv-win-32bit")
    media_64 = install_root + rpmrepo.media_path("xenpv-win-64bit")

    predicted = run_playbook(role_play, extra_vars=options, check=True)
    assert predicted.returncode == 0, predicted.stdout[-4000:]
    assert "Install the xenpv-win packages the guests need" in changed_tasks(predicted)
    assert "Attach the driver media once the packages are installed (check mode)" in changed_tasks(predicted)
    assert rpmrepo.installed_packages(install_root) == []  # check mode installed nothing
    assert cdroms(xp_domain) == [] and cdroms(server_domain) == []

    installed = run_playbook(role_play, extra_vars=options)
    assert installed.returncode == 0, installed.stdout[-4000:]
    assert rpmrepo.installed_packages(install_root) == ["xenpv-win-32bit", "xenpv-win-64bit"]
    assert os.path.isfile(media_32) and os.path.isfile(media_64)
    assert cdroms(xp_domain) == [("hdd", media_32)] and cdroms(server_domain) == [("hdd", media_64)]
    assert hard_disks(xp_domain) == ["hda", "xvdb"]
    report = task_result(installed, "Report what the role did")["ansible_facts"]["xenpv_win_report"]
    assert report["installed_now"] == ["xenpv-win-32bit", "xenpv-win-64bit"] and report["missing"] == []
    assert report["media_attached"] == [xp, server]

    again = run_playbook(role_play, extra_vars=options)
    assert again.returncode == 0 and changed_tasks(again) == [], changed_tasks(again)
    again_check = run_playbook(role_play, extra_vars=options, check=True)
    assert again_check.returncode == 0 and changed_tasks(again_check) == [], changed_tasks(again_check)

    absent = dict(options, xenpv_win_state="absent")
    removal_predicted = run_playbook(role_play, extra_vars=absent, check=True)
    assert removal_predicted.returncode == 0, removal_predicted.stdout[-4000:]
    assert set(changed_tasks(removal_predicted)) == {"Detach the driver media from the guests",
                                                     "Remove the xenpv-win packages"}
    assert rpmrepo.installed_packages(install_root) == ["xenpv-win-32bit", "xenpv-win-64bit"]
    assert cdroms(xp_domain) == [("hdd", media_32)]

    removed = run_playbook(role_play, extra_vars=absent)
    assert removed.returncode == 0, removed.stdout[-4000:]
    assert rpmrepo.installed_packages(install_root) == []
    assert cdroms(xp_domain) == [] and cdroms(server_domain) == []
    assert hard_disks(xp_domain) == ["hda", "xvdb"] and hard_disks(server_domain) == ["hda", "xvdb"]
    removed_again = run_playbook(role_play, extra_vars=absent)
    assert removed_again.returncode == 0 and changed_tasks(removed_again) == [], changed_tasks(removed_again)


def test_debug_packages_and_a_repositorys_own_names(role_play, write_release, install_root, test_driver_uri):
    options = role_vars(write_release(RHEL_5_4), install_root, test_driver_uri, xenpv_win_debug=True,
                        xenpv_win_package_names={"xenpv-win-32bit": rpmrepo.RENAMED_32BIT},
                        xenpv_win_guests=[{"os": "xp-sp2"}])
    run = run_playbook(role_play, extra_vars=options)
    assert run.returncode == 0, run.stdout[-4000:]
    assert rpmrepo.installed_packages(install_root) == [rpmrepo.RENAMED_32BIT, "xenpv-win-32bit-debug"]


@pytest.mark.parametrize("release, arch, guests, words", [
    ("Red Hat Enterprise Linux Server release 5.1 (Tikanga)", "x86_64", [{"os": "xp-sp3"}],
     "[host_release_too_old]"),
    (RHEL_5_4, "ia64", [{"os": "xp-sp3"}], "[host_arch_itanium] the host is an Itanium (ia64) system"),
    (RHEL_5_4, "i686", [{"os": "xp-sp3"}, {"os": "xpx64-sp1"}],
     "[guest_arch_exceeds_host] guests[1] is 64-bit Windows, but the host is 32-bit"),
    ("CentOS release 5.2 (Final)", "x86_64", [{"os": "xp-sp3"}], "[host_not_rhel] the host runs CentOS 5.2"),
])
def test_a_host_breaking_a_rule_is_refused_and_nothing_is_installed(
        role_play, write_release, install_root, test_driver_uri, release, arch, guests, words):
    options = role_vars(write_release(release), install_root, test_driver_uri, xenpv_win_host_arch=arch,
                        xenpv_win_guests=guests)
    run = run_playbook(role_play, extra_vars=options)
    assert run.returncode != 0
    failure = task_record(run, "Check the host and its Windows guests against the xenpv-win rules")
    assert failure["status"] == "failed" and words in failure["result"]["msg"], failure
    assert rpmrepo.installed_packages(install_root) == []


def test_a_guest_with_its_system_disk_on_the_paravirt_bus_is_refused(
        role_play, write_release, install_root, test_driver_uri, define_guest, unique_name):
    name = unique_name("pvc")
    define_guest(name, disks=[("xvda", "xen", "disk"), ("hdb", "ide", "disk")])
    options = role_vars(write_release(RHEL_5_4), install_root, test_driver_uri,
                        xenpv_win_guests=[{"name": name, "os": "2003-sp2", "arch": 64}])
    run = run_playbook(role_play, extra_vars=options)
    assert run.returncode != 0
    message = task_result(run, "Check the host and its Windows guests against the xenpv-win rules")["msg"]
    assert "[system_disk_paravirt] the system drive of %s (xvda" % name in message
    assert rpmrepo.installed_packages(install_root) == []


def test_without_failing_on_problems_the_needed_packages_are_still_installed(
        role_play, write_release, install_root, test_driver_uri):
    options = role_vars(write_release(RHEL_5_4), install_root, test_driver_uri, xenpv_win_fail_on_problems=False,
                        xenpv_win_guests=[{"os": "xp-sp3", "free_space_mb": 5}])
    run = run_playbook(role_play, extra_vars=options)
    assert run.returncode == 0, run.stdout[-4000:]
    report = task_result(run, "Report what the role did")["ansible_facts"]["xenpv_win_report"]
    assert [p["code"] for p in report["problems"]] == ["guest_free_space_low"]
    assert rpmrepo.installed_packages(install_root) == ["xenpv-win-32bit"]


def test_the_media_target_never_replaces_a_hard_disk(
        role_play, write_release, install_root, test_driver_uri, define_guest, unique_name):
    name = unique_name("hdd")
    domain = define_guest(name, disks=RED_HAT_EXAMPLE_DISKS + [("hdd", "ide", "disk")])
    before = domain.XMLDesc(0)
    options = role_vars(write_release(RHEL_5_4), install_root, test_driver_uri, xenpv_win_attach_media=True,
                        xenpv_win_guests=[{"name": name, "os": "xp-sp3"}])
    run = run_playbook(role_play, extra_vars=options)
    assert run.returncode != 0
    failure = task_result(run, "The media target is not one of the guests' hard disks")
    assert "%s already has a disk at hdd" % name in str(failure), failure
    assert domain.XMLDesc(0) == before


def task_name(record):
    """A task's name without the "virt.libvirt.xenpv_win : " prefix Ansible gives role tasks."""
    return record["task"].split(" : ", 1)[-1]


def task_record(run, name, host=None):
    """The last record (status and result) of the task ``name`` (of the role or the play)."""
    matches = [r for r in run.records if task_name(r) == name and (host is None or r["host"] == host)]
    assert matches, "no result for %r in %s" % (name, sorted({task_name(r) for r in run.records}))
    return matches[-1]


def task_result(run, name, host=None):
    return task_record(run, name, host)["result"]


def changed_tasks(run):
    return [task_name(r) for r in run.records if r["result"].get("changed")]


def write_inventory(path, hosts, common):
    inventory = {"xen_hosts": {"vars": common, "hosts": hosts}}
    path.write_text(yaml.safe_dump(inventory))
    return str(path)


def test_the_playbook_runs_the_role_across_the_group_and_summarises_each_host(
        tmp_path, repo, write_release, test_driver_uri, define_guest, unique_name):
    xp, server = unique_name("pbxp"), unique_name("pbw2k3")
    define_guest(xp, arch="i686")
    define_guest(server)
    good_root = rpmrepo.make_install_root(str(tmp_path), repo)
    itanium_root = rpmrepo.make_install_root(str(tmp_path), repo)
    common = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
              "xenpv_win_become": False, "xenpv_win_uri": test_driver_uri,
              "xenpv_win_release_file": write_release(RHEL_5_4), "xenpv_win_package_manager": "dnf",
              "xenpv_win_releasever": "5Server"}
    hosts = {
        "xen1": {"xenpv_win_installroot": good_root, "xenpv_win_package_conf_file": rpmrepo.dnf_conf(good_root),
                 "xenpv_win_attach_media": True,
                 "xenpv_win_guests": [{"name": xp, "os": "Windows XP, Service Pack 3"},
                                      {"name": server, "os": "Windows Server 2003 R2, Service Pack 2", "arch": 64}]},
        "itanium1": {"xenpv_win_installroot": itanium_root, "xenpv_win_host_arch": "ia64",
                     "xenpv_win_package_conf_file": rpmrepo.dnf_conf(itanium_root),
                     "xenpv_win_guests": [{"os": "xp-sp3"}]},
    }
    inventory = write_inventory(tmp_path / "inventory.yml", hosts, common)
    playbook = REPO / "playbooks" / "xenpv_win.yml"

    run = run_playbook(playbook, inventory=inventory)
    assert run.returncode != 0  # itanium1 fails, after its summary
    good = task_result(run, "Summary", host="xen1")["msg"]
    assert "result: ok" in good
    assert "packages needed: xenpv-win-32bit, xenpv-win-64bit" in good
    assert "installed now: xenpv-win-32bit, xenpv-win-64bit" in good
    assert "media attached to: %s, %s" % (xp, server) in good
    bad = task_result(run, "Summary", host="itanium1")["msg"]
    assert any(line.startswith("result: FAILED") and "[host_arch_itanium]" in line for line in bad), bad
    assert task_record(run, "Fail the hosts that did not pass", host="itanium1")["status"] == "failed"
    assert rpmrepo.installed_packages(good_root) == ["xenpv-win-32bit", "xenpv-win-64bit"]
    assert rpmrepo.installed_packages(itanium_root) == []

    hosts.pop("itanium1")
    inventory = write_inventory(tmp_path / "inventory.yml", hosts, common)
    again = run_playbook(playbook, inventory=inventory)
    assert again.returncode == 0 and changed_tasks(again) == [], changed_tasks(again)
    assert "installed now: nothing" in run_summary(again, "xen1")
    # leave the guests without media pointing into the removed root
    removed = run_playbook(playbook, inventory=inventory, extra_vars={"xenpv_win_state": "absent"})
    assert removed.returncode == 0 and "removed now: xenpv-win-32bit, xenpv-win-64bit" in run_summary(removed, "xen1")


def run_summary(run, host):
    return "\n".join(task_result(run, "Summary", host=host)["msg"])


def test_molecule_scenario(tmp_path):
    """The role's molecule scenario: prepare, check, converge, idempotence, verify, cleanup."""
    import subprocess

    venv_bin = str(Path(sys.executable).parent)
    env = ansible_env(PATH=venv_bin + os.pathsep + os.environ.get("PATH", ""),
                      MOLECULE_NO_LOG="false", NO_COLOR="1", ANSIBLE_CALLBACKS_ENABLED="")
    env.pop("ANSIBLE_CALLBACK_PLUGINS", None)
    process = subprocess.run([os.path.join(venv_bin, "molecule"), "test"], cwd=str(REPO / "roles" / "xenpv_win"),
                             env=env, capture_output=True, text=True, timeout=600, check=False)
    output = process.stdout + process.stderr
    assert process.returncode == 0, output[-6000:]
    for step in ("check", "converge", "idempotence", "verify"):
        assert "%s: Executed: Successful" % step in output, step

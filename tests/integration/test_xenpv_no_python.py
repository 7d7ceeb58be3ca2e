"""xenpv_drivers and the xenpv_win role on a host that cannot run modules, as a RHEL 5 Xen host cannot (Python
2.4): an inventory host reached over SSH (the real sshd of scripts/setup-sshd.sh, as the non-root user vltssh
with become) whose ansible_python_interpreter does not exist, so every module run there fails. It has a RHEL 5.4
release file, the stand-in xenpv-win RPMs in an RPM root, and Windows HVM guests on libvirt's test driver
(Xen cannot run here), read on the host with virsh and changed from the controller over test+ssh://.

The action plugin's report there is compared with the module's on a Python 3 host reading the same facts."""
from __future__ import annotations

import json
import sys

import pytest

from tests.integration.conftest import SSH_KEY
# define_guest is a fixture: imported, pytest finds it here.
from tests.integration.test_xenpv_role import (  # noqa: F401  pylint: disable=unused-import
    cdroms, changed_tasks, define_guest, hard_disks, task_record, task_result,
)
from tests.support import rpmrepo
from tests.support.harness import run_playbook

pytestmark = pytest.mark.integration

RHEL_5_4 = "Red Hat Enterprise Linux Server release 5.4 (Tikanga)"
# No such interpreter: Ansible's modules cannot start, as they cannot on Python 2.4.
NO_PYTHON = "/nonexistent/rhel5/bin/python2.4"
# Keys of a result that say how it was made, not what it found.
HOW = ("gather", "gather_reason", "invocation", "_ansible_no_log", "_ansible_verbose_always", "changed", "failed",
       "msg", "exception", "warnings", "deprecations")


def rhel5_host(sshd, **extra):
    """The host without a usable Python, over SSH as a sudo user (become), as a RHEL 5 host is reached."""
    host = {"ansible_connection": "ssh", "ansible_host": sshd["host"], "ansible_port": sshd["port"],
            "ansible_user": sshd["user"], "ansible_ssh_private_key_file": sshd["key"], "ansible_become": True,
            "ansible_python_interpreter": NO_PYTHON}
    host.update(extra)
    return host


def python3_host(**extra):
    host = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    host.update(extra)
    return host


def write_inventory(tmp_path, hosts):
    path = tmp_path / "inventory.json"
    path.write_text(json.dumps({"all": {"hosts": hosts}}))
    return str(path)


def write_play(tmp_path, tasks, name="play.json", hosts="all"):
    path = tmp_path / name
    path.write_text(json.dumps([{"hosts": hosts, "gather_facts": False, "tasks": tasks}]))
    return path


@pytest.fixture
def release_file(tmp_path):
    path = tmp_path / "redhat-release"
    path.write_text(RHEL_5_4 + "\n")
    return str(path)


def what_was_found(result):
    return {key: value for key, value in result.items() if key not in HOW and not key.startswith("_ansible")}


def test_a_module_cannot_run_on_the_host(sshd, tmp_path):
    """The stand-in is faithful: Ansible's own modules fail there, as they do on Python 2.4."""
    inventory = write_inventory(tmp_path, {"rhel5": rhel5_host(sshd)})
    play = write_play(tmp_path, [{"name": "ping", "ansible.builtin.ping": {}, "ignore_errors": True}])
    run = run_playbook(play, inventory=inventory)
    record = task_record(run, "ping", host="rhel5")
    assert record["status"] == "failed" and NO_PYTHON in json.dumps(record["result"]), record


def test_the_report_without_python_is_the_modules_report_on_the_same_facts(
        sshd, tmp_path, release_file, install_root, repo, test_driver_uri, define_guest, unique_name):
    rpmrepo.rpm_install(install_root, repo, "xenpv-win-32bit", "xenpv-win-64bit-debug")
    good, paravirt, missing = unique_name("nopy-xp"), unique_name("nopy-pvc"), unique_name("nopy-none")
    define_guest(good, arch="i686")
    define_guest(paravirt, disks=[("xvda", "xen", "disk"), ("hdb", "ide", "disk"), ("hdc", "ide", "cdrom")])
    args = {"uri": test_driver_uri, "release_file": release_file, "installroot": install_root, "debug": True,
            "guests": [{"name": good, "os": "Windows XP, Service Pack 3", "free_space_mb": 300},
                       {"name": paravirt, "os": "Windows Server 2003 R2, Service Pack 2", "arch": 64},
                       {"name": missing, "os": "xp-sp2"},
                       {"os": "Windows Vista"},
                       {"os": "xpx64-sp1", "free_space_mb": 4}]}
    inventory = write_inventory(tmp_path, {"rhel5": rhel5_host(sshd), "python3": python3_host()})
    tasks = [
        {"name": "report", "virt.libvirt.xenpv_drivers": dict(args, fail_on_problems=False)},
        {"name": "report in check mode", "virt.libvirt.xenpv_drivers": dict(args, fail_on_problems=False),
         "check_mode": True},
        {"name": "failure", "virt.libvirt.xenpv_drivers": args, "ignore_errors": True},
        {"name": "forced through commands", "virt.libvirt.xenpv_drivers": dict(args, fail_on_problems=False,
                                                                               gather="raw")},
    ]
    run = run_playbook(write_play(tmp_path, tasks), inventory=inventory)
    assert run.returncode == 0, run.stdout[-4000:]

    raw, module = task_result(run, "report", host="rhel5"), task_result(run, "report", host="python3")
    assert raw["gather"] == "raw" and module["gather"] == "module"
    assert raw["gather_reason"].startswith("the interpreter %s does not run on the host (rc=127" % NO_PYTHON)
    assert what_was_found(raw) == what_was_found(module)
    # ... and it found what is there: every kind of problem, the installed packages, their media
    assert [p["code"] for p in raw["problems"]] == [
        "system_disk_paravirt", "guest_not_found", "guest_os_unsupported", "guest_free_space_low"]
    assert raw["installed"] == ["xenpv-win-32bit", "xenpv-win-64bit-debug"]
    assert raw["installed_versions"]["xenpv-win-32bit"] == "0:%s-%s.noarch" % (rpmrepo.VERSION, rpmrepo.RELEASE)
    assert raw["missing"] == ["xenpv-win-32bit-debug", "xenpv-win-64bit"]
    assert raw["media"]["xenpv-win-32bit"] == install_root + rpmrepo.media_path("xenpv-win-32bit")
    assert raw["guests"][1]["system_disk"]["target"] == "xvda" and raw["guests"][1]["emulated_disks"] == ["hdb"]
    assert raw["host"]["release"] == RHEL_5_4 and not raw["changed"]

    for host in ("rhel5", "python3"):
        checked = task_result(run, "report in check mode", host=host)
        assert what_was_found(checked) == what_was_found(module) and not checked["changed"], host
    raw_failure = task_record(run, "failure", host="rhel5")
    module_failure = task_record(run, "failure", host="python3")
    assert raw_failure["status"] == module_failure["status"] == "failed"
    assert raw_failure["result"]["msg"] == module_failure["result"]["msg"]
    assert raw_failure["result"]["msg"].startswith("4 problems with the para-virtualized Windows drivers:")
    assert what_was_found(raw_failure["result"]) == what_was_found(module_failure["result"])
    forced = task_result(run, "forced through commands", host="python3")
    assert forced["gather"] == "raw" and forced["gather_reason"] == "gather is raw"
    assert what_was_found(forced) == what_was_found(module)


def test_a_host_without_rpm_or_release_file_gets_the_same_problems(sshd, tmp_path, install_root):
    """Unreadable facts read the same through commands: a missing release file, a root without rpm on PATH."""
    args = {"release_file": str(tmp_path / "no-such-release"), "installroot": install_root,
            "guests": [{"os": "xp-sp3"}], "fail_on_problems": False}
    inventory = write_inventory(tmp_path, {
        "rhel5": rhel5_host(sshd),
        "python3": python3_host(),
    })
    tasks = [{"name": "no release file", "virt.libvirt.xenpv_drivers": args},
             {"name": "no rpm", "virt.libvirt.xenpv_drivers": dict(args, release_file="/etc/hostname"),
              "environment": {"PATH": "/nonexistent"}}]
    run = run_playbook(write_play(tmp_path, tasks), inventory=inventory)
    assert run.returncode == 0, run.stdout[-4000:]
    for task, code, words in (("no release file", "host_release_unreadable", "(No such file or directory)"),
                              ("no rpm", "host_no_package_database", "no rpm command")):
        raw, module = task_result(run, task, host="rhel5"), task_result(run, task, host="python3")
        assert raw["gather"] == "raw" and module["gather"] == "module"
        assert what_was_found(raw) == what_was_found(module), task
        assert code in [p["code"] for p in raw["problems"]] and words in json.dumps(raw["problems"]), raw["problems"]


@pytest.fixture
def role_play(tmp_path):
    return write_play(tmp_path, [{"name": "role", "ansible.builtin.include_role": {"name": "virt.libvirt.xenpv_win"}}],
                      name="role.json")


def test_the_role_installs_with_the_hosts_package_manager_and_attaches_media_from_the_controller(
        sshd, tmp_path, role_play, release_file, install_root, test_driver_uri, define_guest, unique_name):
    xp, server = unique_name("nopy-rxp"), unique_name("nopy-rw2k3")
    xp_domain = define_guest(xp, arch="i686")
    server_domain = define_guest(server)
    remote_uri = "test+ssh://root@%s:%d/default?keyfile=%s" % (sshd["host"], sshd["port"], SSH_KEY)
    host = rhel5_host(
        sshd, xenpv_win_release_file=release_file, xenpv_win_host_arch="x86_64", xenpv_win_uri=test_driver_uri,
        xenpv_win_remote_uri=remote_uri, xenpv_win_installroot=install_root,
        xenpv_win_package_conf_file=rpmrepo.dnf_conf(install_root), xenpv_win_releasever="5Server",
        xenpv_win_attach_media=True,
        xenpv_win_guests=[{"name": xp, "os": "Windows XP, Service Pack 3", "free_space_mb": 300},
                          {"name": server, "os": "Windows Server 2003 R2, Service Pack 2", "arch": 64}])
    inventory = write_inventory(tmp_path, {"rhel5": host})
    media_32 = install_root + rpmrepo.media_path("xenpv-win-32bit")
    media_64 = install_root + rpmrepo.media_path("xenpv-win-64bit")

    predicted = run_playbook(role_play, inventory=inventory, check=True)
    assert predicted.returncode == 0, predicted.stdout[-4000:]
    assert set(changed_tasks(predicted)) == {"Packages installed with the host's package manager",
                                             "Attach the driver media once the packages are installed (check mode)"}
    assert rpmrepo.installed_packages(install_root) == [] and cdroms(xp_domain) == []

    installed = run_playbook(role_play, inventory=inventory)
    assert installed.returncode == 0, installed.stdout[-4000:]
    assert task_record(installed, "Install the xenpv-win packages the guests need")["status"] == "skipped"
    assert task_record(installed, "Install the xenpv-win packages the guests need with the host's package manager",
                       )["status"] == "ok"
    assert rpmrepo.installed_packages(install_root) == ["xenpv-win-32bit", "xenpv-win-64bit"]
    assert cdroms(xp_domain) == [("hdd", media_32)] and cdroms(server_domain) == [("hdd", media_64)]
    assert hard_disks(xp_domain) == ["hda", "xvdb"]
    report = task_result(installed, "Report what the role did")["ansible_facts"]["xenpv_win_report"]
    assert report["gather"] == "raw" and report["installed_now"] == ["xenpv-win-32bit", "xenpv-win-64bit"]
    assert report["media_attached"] == [xp, server] and report["missing"] == []
    assert set(changed_tasks(installed)) == {
        "Packages installed with the host's package manager",
        "Attach the driver media to each guest as a read-only CD-ROM, from the controller"}

    again = run_playbook(role_play, inventory=inventory)
    assert again.returncode == 0 and changed_tasks(again) == [], changed_tasks(again)
    again_predicted = run_playbook(role_play, inventory=inventory, check=True)
    assert again_predicted.returncode == 0 and changed_tasks(again_predicted) == [], changed_tasks(again_predicted)

    absent = dict(host, xenpv_win_state="absent")
    inventory = write_inventory(tmp_path, {"rhel5": absent})
    removal_predicted = run_playbook(role_play, inventory=inventory, check=True)
    assert removal_predicted.returncode == 0, removal_predicted.stdout[-4000:]
    assert set(changed_tasks(removal_predicted)) == {"Detach the driver media from the guests, from the controller",
                                                     "Packages removed with the host's package manager"}
    assert rpmrepo.installed_packages(install_root) == ["xenpv-win-32bit", "xenpv-win-64bit"]

    removed = run_playbook(role_play, inventory=inventory)
    assert removed.returncode == 0, removed.stdout[-4000:]
    assert rpmrepo.installed_packages(install_root) == []
    assert cdroms(xp_domain) == [] and cdroms(server_domain) == []
    assert hard_disks(server_domain) == ["hda", "xvdb"]
    report = task_result(removed, "Report what the role did")["ansible_facts"]["xenpv_win_report"]
    assert report["removed_now"] == ["xenpv-win-32bit", "xenpv-win-64bit"] and report["media_detached"] == [xp, server]
    removed_again = run_playbook(role_play, inventory=inventory)
    assert removed_again.returncode == 0 and changed_tasks(removed_again) == [], changed_tasks(removed_again)

"""virt.libvirt.xenpv_drivers against real RPM databases: stand-in xenpv-win packages installed with rpm
into throwaway roots, the package_names mapping, the driver media, and a broken database.

The rules themselves are covered by tests/unit/plugins/module_utils/test_xenpv_rules.py and, through
ansible-playbook on guests of the test driver, by tests/integration/targets/xenpv_drivers."""
from __future__ import annotations

import os

import pytest

from tests.support import rpmrepo
from tests.support.harness import run_module

pytestmark = pytest.mark.integration

RHEL_5_4 = "Red Hat Enterprise Linux Server release 5.4 (Tikanga)"
MIXED_GUESTS = [{"os": "Windows XP, Service Pack 3", "free_space_mb": 100},
                {"os": "Windows Server 2003 R2, Service Pack 2", "arch": 64, "free_space_mb": 100}]


@pytest.fixture
def release_file(tmp_path):
    path = tmp_path / "redhat-release"
    path.write_text(RHEL_5_4 + "\n")
    return str(path)


def check(release_file, install_root, check_mode=False, **options):
    args = {"release_file": release_file, "host_arch": "x86_64", "installroot": install_root,
            "guests": MIXED_GUESTS}
    args.update(options)
    return run_module("xenpv_drivers", args, check_mode=check_mode)


def test_installed_and_missing_come_from_the_rpm_database(release_file, install_root, repo):
    rpmrepo.rpm_install(install_root, repo, "xenpv-win-32bit", "xenpv-win-64bit-debug")
    result = check(release_file, install_root)
    assert not result.failed and not result.changed, result.get("msg")
    assert result["packages"] == ["xenpv-win-32bit", "xenpv-win-64bit"]
    # installed lists every xenpv-win package present, needed or not
    assert result["installed"] == ["xenpv-win-32bit", "xenpv-win-64bit-debug"]
    assert result["missing"] == ["xenpv-win-64bit"]
    assert result["installed_versions"]["xenpv-win-32bit"] == "0:%s-%s.noarch" % (rpmrepo.VERSION, rpmrepo.RELEASE)
    media = result["media"]["xenpv-win-32bit"]
    assert media == install_root + rpmrepo.media_path("xenpv-win-32bit") and os.path.isfile(media)
    assert sorted(result["media"]) == ["xenpv-win-32bit", "xenpv-win-64bit-debug"]
    assert result["supported"] and result["problems"] == []


def test_check_mode_reads_the_same(release_file, install_root, repo):
    rpmrepo.rpm_install(install_root, repo, "xenpv-win-64bit")
    normal = check(release_file, install_root)
    checked = check(release_file, install_root, check_mode=True)
    for key in ("packages", "installed", "missing", "media", "problems", "notes", "guests", "host"):
        assert checked[key] == normal[key], key
    assert checked["missing"] == ["xenpv-win-32bit"] and not checked.changed
    assert rpmrepo.installed_packages(install_root) == ["xenpv-win-64bit"]


def test_package_names_map_red_hat_names_to_a_repository(release_file, install_root, repo):
    rpmrepo.rpm_install(install_root, repo, rpmrepo.RENAMED_32BIT)
    result = check(release_file, install_root, package_names={"xenpv-win-32bit": rpmrepo.RENAMED_32BIT},
                   guests=[{"os": "xp-sp2"}], debug=True)
    assert result["packages"] == [rpmrepo.RENAMED_32BIT, "xenpv-win-32bit-debug"]
    assert result["installed"] == [rpmrepo.RENAMED_32BIT]
    assert result["missing"] == ["xenpv-win-32bit-debug"]
    assert result["media"] == {"xenpv-win-32bit": install_root + rpmrepo.media_path(rpmrepo.RENAMED_32BIT)}
    assert result["package_names"]["xenpv-win-32bit"] == rpmrepo.RENAMED_32BIT


def test_a_broken_package_database_fails_with_rpms_message(release_file, install_root):
    # A real fault: the root's RPM database is not a database. (Its directory is rpm's %_dbpath under
    # the root: /var/lib/rpm on RHEL, ~/.rpmdb with Debian's rpm.)
    database_files = [os.path.join(directory, name) for directory, _dirs, names in os.walk(install_root)
                      for name in names if name.startswith("rpmdb.sqlite")]
    assert database_files
    for path in database_files:
        with open(path, "wb") as stream:
            stream.write(b"this is not an rpm database\n" * 64)
    result = check(release_file, install_root)
    assert result.failed and result["option"] == "installroot"
    assert result["msg"].startswith("installroot: querying the package database with rpm failed"), result["msg"]
    assert "Traceback" not in result["msg"] and "Traceback" not in result["_stderr"]

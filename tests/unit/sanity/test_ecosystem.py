"""The generated files that must follow their sources: the changelog (antsibull-changelog, from
changelogs/changelog.yaml and the fragments) and the module reference in docs/reference/ (from each plugin's
documentation, through ansible-doc). ansible-test sanity and ansible-lint run from `make sanity` / `make lint`."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.harness import REPO, ansible_env

BIN = Path(sys.executable).parent
pytestmark = pytest.mark.skipif(not (REPO / "galaxy.yml").is_file(), reason="checks the source checkout's generated "
                                "files and tools (galaxy.yml, scripts/ and the Makefile do not ship)")


def _run(command, cwd=REPO, timeout=300):
    return subprocess.run(command, capture_output=True, text=True, cwd=str(cwd), env=ansible_env(), timeout=timeout,
                          check=False)


def test_changelog_fragments_pass_antsibull_changelog_lint():
    process = _run([str(BIN / "antsibull-changelog"), "lint"])
    assert process.returncode == 0 and not process.stdout.strip(), process.stdout + process.stderr


def test_changelog_releases_the_galaxy_version():
    version = yaml.safe_load((REPO / "galaxy.yml").read_text())["version"]
    releases = yaml.safe_load((REPO / "changelogs" / "changelog.yaml").read_text())["releases"]
    assert version in releases, "changelogs/changelog.yaml has no release %s (galaxy.yml's version)" % version
    assert "v%s\n====" % version in (REPO / "CHANGELOG.rst").read_text()


def test_changelog_rst_is_generated_from_changelog_yaml(tmp_path):
    for name in ("galaxy.yml", "CHANGELOG.rst"):
        shutil.copy(str(REPO / name), str(tmp_path / name))
    shutil.copytree(str(REPO / "changelogs"), str(tmp_path / "changelogs"))
    process = _run([str(BIN / "antsibull-changelog"), "generate"], cwd=tmp_path)
    assert process.returncode == 0, process.stdout + process.stderr
    assert (tmp_path / "CHANGELOG.rst").read_text() == (REPO / "CHANGELOG.rst").read_text(), \
        "CHANGELOG.rst is not what antsibull-changelog generates from changelogs/changelog.yaml"


def test_module_reference_is_up_to_date():
    process = _run([sys.executable, str(REPO / "scripts" / "module_reference.py"), "--check"], timeout=600)
    assert process.returncode == 0, process.stdout + process.stderr


def test_module_reference_check_notices_a_stale_page(tmp_path):
    """The --check above can fail: a page edited by hand (here, in a copy of the tree) is reported."""
    copy = tmp_path / "ansible_collections" / "virt" / "libvirt"
    skipped = shutil.ignore_patterns(".venv", ".build", ".git", ".hypothesis", ".pytest_cache", "__pycache__", ".ansible")
    shutil.copytree(str(REPO), str(copy), ignore=skipped)
    page = copy / "docs" / "reference" / "network.md"
    page.write_text(page.read_text().replace("Declare libvirt virtual networks", "Declare networks", 1))
    env = ansible_env()
    env["ANSIBLE_COLLECTIONS_PATH"] = env["PYTHONPATH"] = str(tmp_path)
    process = subprocess.run([sys.executable, str(copy / "scripts" / "module_reference.py"), "--check"],
                             capture_output=True, text=True, env=env, timeout=600, check=False)
    assert process.returncode != 0 and "network.md (stale or missing)" in process.stderr, process.stderr


def test_reference_is_linked_from_the_documentation_index():
    assert "(reference/index.md)" in (REPO / "docs" / "index.md").read_text()


@pytest.mark.parametrize("target", ["lint", "ansible-sanity", "reference", "changelog"])
def test_check_targets_are_defined_once(target):
    dry_run = _run(["make", "-n", target], timeout=60)
    assert dry_run.returncode == 0 and "warning" not in dry_run.stderr.lower(), dry_run.stderr

"""The collection as users get it: the tarball `ansible-galaxy collection build` makes from this checkout.
It holds only the allowed top-level set, no word that means something only inside the project, and it
travels: installed with `ansible-galaxy collection install` into a fresh directory, its own unit tests and
ansible-test sanity pass there. An execution environment built from it (ansible-builder) carries its Python
and system requirements, and every library the plugins import is declared in requirements.txt."""
from __future__ import annotations

import ast
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from tests.support.harness import REPO, SHARED_MISSING, ansible_env

pytestmark = pytest.mark.skipif(not (REPO / "galaxy.yml").is_file(),
                                reason="builds the collection from its source checkout (galaxy.yml does not ship)")

BIN = Path(sys.executable).parent

# What a built collection may hold at its top level; everything else is development material (build_ignore).
ALLOWED_TOP_LEVEL = {
    "MANIFEST.json", "FILES.json", "README.md", "LICENSE", "CHANGELOG.rst", "requirements.txt", "bindep.txt",
    "changelogs", "docs", "meta", "playbooks", "plugins", "roles", "tests",
}

# Words that mean something only inside the project: its name for the source documents, and its tracker's
# numbers. Users know neither; the documents are named by what they are.
INTERNAL_WORDS = (
    ("seed", re.compile(r"\bseed(?:s|'s)?\b", re.IGNORECASE)),
    ("issue <number>", re.compile(r"\bissues? #?\d+\b", re.IGNORECASE)),
)
# The same word in its ordinary meanings is fine: a cloud-init (NoCloud) seed, which a file about cloud-init
# may call "the seed" (the volume module's cloud_init option), and a random seed.
CLOUD_INIT = re.compile(r"cloud[-_ ]init|nocloud|cidata", re.IGNORECASE)
ORDINARY_SEED = re.compile(r"random seed", re.IGNORECASE)

# Top-level Python modules the plugins may import from outside the standard library and Ansible, and the
# requirement (requirements.txt) that provides each.
THIRD_PARTY_IMPORTS = {"libvirt": "libvirt-python", "lxml": "lxml", "pycdlib": "pycdlib"}


def internal_words(text):
    """(word, line number, line) for every internal word in ``text`` (a file's content, or a path)."""
    about_cloud_init = bool(CLOUD_INIT.search(text))
    hits = []
    for number, line in enumerate(text.splitlines(), 1):
        for word, pattern in INTERNAL_WORDS:
            ordinary = word == "seed" and (about_cloud_init or ORDINARY_SEED.search(line))
            if pattern.search(line) and not ordinary:
                hits.append((word, number, line.strip()))
    return hits


def _run(command, cwd=REPO, timeout=600, **env):
    return subprocess.run([str(part) for part in command], capture_output=True, text=True, cwd=str(cwd),
                          env=ansible_env(**env), timeout=timeout, check=False)


@pytest.fixture(scope="module")
def tarball(tmp_path_factory):
    output = tmp_path_factory.mktemp("artifact")
    process = _run([BIN / "ansible-galaxy", "collection", "build", "--output-path", output, REPO])
    assert process.returncode == 0, process.stdout + process.stderr
    (path,) = output.glob("virt-libvirt-*.tar.gz")
    return path


@pytest.fixture(scope="module")
def installed(tarball, tmp_path_factory):
    """The tarball installed the way users install it, into a directory that has nothing else."""
    root = tmp_path_factory.mktemp("installed")
    process = _run([BIN / "ansible-galaxy", "collection", "install", "--no-deps", "--force", "-p", root, tarball])
    assert process.returncode == 0, process.stdout + process.stderr
    return root / "ansible_collections" / "virt" / "libvirt"


def test_tarball_holds_only_the_allowed_top_level(tarball):
    with tarfile.open(str(tarball)) as archive:
        top_level = {member.name.split("/")[0] for member in archive.getmembers()}
    assert top_level - ALLOWED_TOP_LEVEL == set(), "outside the allowed set; add it to galaxy.yml's build_ignore"
    assert {"README.md", "LICENSE", "requirements.txt", "bindep.txt", "plugins", "tests"} <= top_level


def test_tarball_has_no_internal_words(tarball):
    hits = []
    with tarfile.open(str(tarball)) as archive:
        for member in archive.getmembers():
            if member.name == "tests/unit/sanity/test_collection_artifact.py":
                continue  # this file: it names the words to find them
            hits += [(member.name, "path", word) for word, _number, _line in internal_words(member.name)]
            if member.isfile():
                try:
                    text = archive.extractfile(member).read().decode("utf-8")
                except UnicodeDecodeError:
                    continue  # not text
                hits += [(member.name, number, line) for _word, number, line in internal_words(text)]
    assert not hits, "\n".join("%s:%s: %s" % hit for hit in hits)


@pytest.mark.parametrize("text, found", [
    ("in the seed's wording", True),
    ("Seeds and corpus", True),
    ("as issue 7 asks", True),
    ("see issue #12", True),
    ("a cloud-init seed ISO for each guest", False),
    ("volume: cloud_init\nThe files of the seed, by name", False),  # in a file about cloud-init
    ("random.Random(seed) gives a random seed", False),
    ("seed_package(arch)", False),  # an identifier, not a word
    ("the issue of sizes", False),
])
def test_internal_word_check_finds_what_it_should(text, found):
    assert bool(internal_words(text)) == found


def test_installed_collection_documents_its_plugins(installed):
    process = _run([BIN / "ansible-doc", "virt.libvirt.domain"], ANSIBLE_COLLECTIONS_PATH=installed.parents[2])
    assert process.returncode == 0 and "virt.libvirt.domain" in process.stdout, process.stderr


def test_installed_collection_passes_its_unit_tests_without_the_corpus(installed):
    """The shipped unit tests run from the installed collection alone; those that need libvirt's corpus or the
    source documents (not shipped) skip and say why."""
    process = _run([sys.executable, "-m", "pytest", "tests/unit", "-q", "-rs", "-p", "no:cacheprovider"],
                   cwd=installed, VIRT_LIBVIRT_SHARED="")
    output = process.stdout + process.stderr
    assert process.returncode == 0, output[-6000:]
    assert re.search(r"\d+ passed, \d+ skipped", output), output[-2000:]
    assert SHARED_MISSING[:60] in output, "no test said why it skipped:\n" + output[-3000:]
    assert "source checkout" in output  # this file's own tests skip there too


def test_installed_collection_passes_ansible_test_sanity(installed):
    process = _run(["bash", REPO / "scripts" / "ansible-test-sanity.sh", "--collection", installed], timeout=1200,
                   VENV=str(BIN.parent))
    output = process.stdout + process.stderr
    assert process.returncode == 0, output[-6000:]
    assert 'Running sanity test "validate-modules"' in output, output[-3000:]


def test_execution_environment_carries_the_requirements(tarball, tmp_path):
    """ansible-builder creates the build context of an execution environment that installs the tarball; what
    its Containerfile then runs (ansible-galaxy collection install, then the context's own introspect.py) yields
    requirements.txt and bindep.txt of this collection. No container engine needed."""
    definition = {
        "version": 3,
        "images": {"base_image": {"name": "registry.invalid/ee-base:latest"}},
        "dependencies": {
            "ansible_core": {"package_pip": "ansible-core"},
            "ansible_runner": {"package_pip": "ansible-runner"},
            "galaxy": {"collections": [{"name": "collections/%s" % tarball.name, "type": "file"}]},
        },
        "additional_build_files": [{"src": str(tarball), "dest": "collections"}],
    }
    (tmp_path / "execution-environment.yml").write_text(yaml.safe_dump(definition))
    process = _run([BIN / "ansible-builder", "create", "-f", "execution-environment.yml", "-c", "context"],
                   cwd=tmp_path)
    assert process.returncode == 0, process.stdout + process.stderr
    build = tmp_path / "context" / "_build"
    containerfile = next((tmp_path / "context").glob("[CD]*file")).read_text()
    assert "ansible-galaxy collection install" in containerfile and "introspect.py introspect" in containerfile
    assert (build / "collections" / tarball.name).is_file()

    collections = tmp_path / "ee-collections"
    process = _run([BIN / "ansible-galaxy", "collection", "install", "--force", "-r", "requirements.yml",
                    "--collections-path", collections], cwd=build, ANSIBLE_GALAXY_DISABLE_GPG_VERIFY="1")
    assert process.returncode == 0, process.stdout + process.stderr
    process = _run([sys.executable, build / "scripts" / "introspect.py", "introspect", collections,
                    "--write-pip", tmp_path / "pip.txt", "--write-bindep", tmp_path / "bindep.txt"], cwd=build)
    assert process.returncode == 0, process.stdout + process.stderr
    python = (tmp_path / "pip.txt").read_text()
    system = (tmp_path / "bindep.txt").read_text()
    for requirement in ("libvirt-python", "lxml"):
        assert re.search(r"^%s\b.*# from collection virt\.libvirt$" % requirement, python, re.MULTILINE), python
    for package in ("libvirt0 [platform:dpkg]", "libvirt-libs [platform:rpm]", "libvirt-dev [platform:dpkg compile]",
                    "libvirt-devel [platform:rpm compile]", "pkg-config [platform:dpkg compile]", "gcc [compile]",
                    "python3-dev [platform:dpkg compile]", "python3-devel [platform:rpm compile]"):
        assert "%s  # from collection virt.libvirt" % package in system, system


def _imported_top_level_modules(path):
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_every_library_the_plugins_import_is_declared():
    imported = set()
    for path in (REPO / "plugins").rglob("*.py"):
        imported |= _imported_top_level_modules(path)
    third_party = sorted(name for name in imported - set(sys.stdlib_module_names) - {"ansible", "ansible_collections",
                                                                                     "__future__"})
    unknown = [name for name in third_party if name not in THIRD_PARTY_IMPORTS]
    assert not unknown, "plugins import %s: declare it in requirements.txt and THIRD_PARTY_IMPORTS" % unknown
    declared = {re.split(r"[<>=!~;\s\[]", line.strip())[0].lower()
                for line in (REPO / "requirements.txt").read_text().splitlines()
                if line.strip() and not line.startswith("#")}
    assert {THIRD_PARTY_IMPORTS[name].lower() for name in third_party} <= declared, declared


README_SECTIONS = ["Included content", "Installation", "Using this collection", "Tested with", "Release notes",
                   "Contributing", "Licence"]


def test_readme_opens_with_the_title_description_and_the_two_commands():
    text = (REPO / "README.md").read_text()
    lines = text.splitlines()
    assert lines[0] == "# virt.libvirt" and lines[1] == "" and lines[2].strip(), "title, then the one-line description"
    opening = text.split("\n## ", 1)[0]
    assert opening.index("make demo") < opening.index("make test"), "the two set-up commands come before any section"
    sections = re.findall(r"^## (.+)$", text, re.MULTILINE)
    assert sections == README_SECTIONS, sections


def test_readme_links_work_on_galaxy():
    """Galaxy shows the README away from the repository: a relative link would lead nowhere there."""
    text = (REPO / "README.md").read_text()
    targets = re.findall(r"\]\(([^)]*)\)", text) + re.findall(r"<([a-z]+:[^>]*)>", text)
    relative = [target for target in targets if not re.match(r"https?://|#", target)]
    assert not relative, relative


def test_readme_names_every_tested_version():
    matrix = (REPO / "scripts" / "ansible-matrix.sh").read_text()
    versions = re.search(r"^ALL_VERSIONS=\(([^)]*)\)", matrix, re.MULTILINE).group(1).split() + ["2.18"]
    table = (REPO / "README.md").read_text().split("## Tested with", 1)[1].split("\n## ", 1)[0]
    assert sorted(re.findall(r"^\| (2\.\d+) \|", table, re.MULTILINE)) == sorted(versions)
    runtime = yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())
    assert runtime["requires_ansible"] == ">=%s.0" % min(versions, key=lambda v: tuple(map(int, v.split("."))))

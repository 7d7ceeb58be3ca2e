"""Runs the collection's modules and playbooks for real, the way Ansible does."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Installed (ansible-galaxy collection install) the collection already sits at ansible_collections/virt/libvirt;
# a checkout is linked there under .build/collections.
INSTALLED = REPO.parts[-3:] == ("ansible_collections", "virt", "libvirt")
COLLECTIONS_ROOT = REPO.parents[2] if INSTALLED else REPO / ".build" / "collections"
COLLECTION_LINK = COLLECTIONS_ROOT / "ansible_collections" / "virt" / "libvirt"
CALLBACKS = Path(__file__).resolve().parent / "callback_plugins"
SCHEMAS = Path("/usr/share/libvirt/schemas")


def _git_common_checkout():
    """The main checkout of the git worktree the tests run in (None outside git)."""
    try:
        process = subprocess.run(["git", "rev-parse", "--path-format=absolute", "--git-common-dir"], cwd=str(REPO),
                                 capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return None
    common = process.stdout.strip()
    return Path(common).parent if process.returncode == 0 and common else None


def _shared_directory():
    """The reference material the tests read and do not ship: libvirt 9.0.0's own test XML (corpus/) and the
    source documents (libvirt's domain XML format documentation, Red Hat's xenpv-win requirements). Looked for
    in $VIRT_LIBVIRT_SHARED when it is set (empty: nowhere), else in ../shared beside the checkout or beside
    the main checkout of a git worktree. None when it is not there: the tests that need it skip, saying so."""
    explicit = os.environ.get("VIRT_LIBVIRT_SHARED")
    if explicit is not None:
        candidates = [Path(explicit)] if explicit else []
    else:
        candidates = [REPO.parent / "shared"]
        main_checkout = None if INSTALLED else _git_common_checkout()
        if main_checkout is not None:
            candidates.append(main_checkout.parent / "shared")
    for candidate in candidates:
        if (candidate / "corpus").is_dir():
            return candidate
    return None


SHARED = _shared_directory()
SHARED_MISSING = ("libvirt's test corpus and the source documents are not here (looked for ../shared beside the "
                  "checkout; set VIRT_LIBVIRT_SHARED to their directory)")
# Where they would be: paths below it do not exist, so a test reading one is skipped (tests/conftest.py).
ABSENT_SHARED = REPO.parent / "shared"
CORPUS = (SHARED or ABSENT_SHARED) / "corpus"
SOURCE_DOCUMENTS = next((path.parent for path in (SHARED or ABSENT_SHARED).glob("*/libvirt-format.html")),
                        ABSENT_SHARED / "documents")


def ensure_collection_link():
    """Expose the checkout as ansible_collections/virt/libvirt (Ansible's required layout)."""
    if not INSTALLED:
        COLLECTION_LINK.parent.mkdir(parents=True, exist_ok=True)
        if not COLLECTION_LINK.is_symlink():
            if COLLECTION_LINK.exists():
                raise RuntimeError("%s exists and is not a symlink" % COLLECTION_LINK)
            COLLECTION_LINK.symlink_to(REPO)
    if str(COLLECTIONS_ROOT) not in sys.path:
        sys.path.insert(0, str(COLLECTIONS_ROOT))


def ansible_env(**extra):
    env = dict(os.environ)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS_ROOT),
        "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACKS),
        "ANSIBLE_CALLBACKS_ENABLED": "json_results",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_HOST_KEY_CHECKING": "0",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
        "ANSIBLE_DEPRECATION_WARNINGS": "0",
        "PYTHONPATH": str(COLLECTIONS_ROOT),
    })
    env.update(extra)
    return env


class ModuleResult(dict):
    """A module's JSON result plus the process' exit code and stderr."""

    @property
    def failed(self):
        return bool(self.get("failed"))

    @property
    def changed(self):
        return bool(self.get("changed"))


def run_module(name, args, check_mode=False, diff=False, timeout=300):
    """Run ``virt.libvirt.<name>`` as Ansible does on a managed host: a fresh Python process fed
    ANSIBLE_MODULE_ARGS, printing one JSON result."""
    payload = dict(args)
    payload["_ansible_check_mode"] = check_mode
    payload["_ansible_diff"] = diff
    payload["_ansible_tmpdir"] = tempfile.mkdtemp(prefix="virt-libvirt-module-")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as stream:
        json.dump({"ANSIBLE_MODULE_ARGS": payload}, stream)
        args_path = stream.name
    try:
        process = subprocess.run(
            [sys.executable, "-m", "ansible_collections.virt.libvirt.plugins.modules.%s" % name, args_path],
            capture_output=True, text=True, env=ansible_env(), timeout=timeout, cwd=str(REPO), check=False,
        )
    finally:
        os.unlink(args_path)
    try:
        result = ModuleResult(json.loads(process.stdout))
    except ValueError:
        raise AssertionError(
            "module %s printed no JSON (rc=%s)\nstdout:\n%s\nstderr:\n%s"
            % (name, process.returncode, process.stdout, process.stderr)
        ) from None
    result["_rc"] = process.returncode
    result["_stderr"] = process.stderr
    return result


class PlaybookRun:
    def __init__(self, returncode, stdout, stderr, records):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.records = records

    def task(self, name, host=None):
        """The last result of the task called ``name``."""
        matches = [r for r in self.records if r["task"] == name and (host is None or r["host"] == host)]
        if not matches:
            raise AssertionError("no result for task %r; tasks seen: %s\n%s"
                                 % (name, [r["task"] for r in self.records], self.stdout[-4000:]))
        return matches[-1]["result"]

    def changed_tasks(self):
        return [r["task"] for r in self.records if r["result"].get("changed")]


def run_playbook(playbook, extra_vars=None, check=False, diff=False, inventory=None, args=(), timeout=900,
                 env=None):
    """Run ``ansible-playbook`` for real and return its per-task JSON results."""
    with tempfile.TemporaryDirectory(prefix="virt-libvirt-play-") as workdir:
        results_path = os.path.join(workdir, "results.jsonl")
        command = [str(Path(sys.executable).parent / "ansible-playbook"), str(playbook)]
        if inventory is None:
            inventory = os.path.join(workdir, "inventory.ini")
            with open(inventory, "w", encoding="utf-8") as stream:
                stream.write("localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
        command += ["-i", str(inventory)]
        if extra_vars:
            vars_path = os.path.join(workdir, "vars.json")
            with open(vars_path, "w", encoding="utf-8") as stream:
                json.dump(extra_vars, stream)
            command += ["-e", "@" + vars_path]
        if check:
            command.append("--check")
        if diff:
            command.append("--diff")
        command += list(args)
        process = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=str(REPO), check=False,
                                 env=ansible_env(VIRT_LIBVIRT_RESULTS=results_path, **(env or {})))
        records = []
        if os.path.exists(results_path):
            with open(results_path, encoding="utf-8") as stream:
                records = [json.loads(line) for line in stream if line.strip()]
        return PlaybookRun(process.returncode, process.stdout, process.stderr, records)

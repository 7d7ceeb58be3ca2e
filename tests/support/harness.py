"""Runs the collection's modules and playbooks for real, the way Ansible does."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS_ROOT = REPO / ".build" / "collections"
COLLECTION_LINK = COLLECTIONS_ROOT / "ansible_collections" / "virt" / "libvirt"
CALLBACKS = Path(__file__).resolve().parent / "callback_plugins"


def _shared_directory():
    """The project's shared documents (seeds, libvirt's test corpus): ../shared beside the checkout, or
    $VIRT_LIBVIRT_SHARED, or /work/shared for a clone made elsewhere on this machine."""
    candidates = [os.environ.get("VIRT_LIBVIRT_SHARED"), REPO.parent / "shared", "/work/shared"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "seeds").is_dir():
            return Path(candidate)
    raise RuntimeError("the shared seeds and corpus are not found (looked in %s); set VIRT_LIBVIRT_SHARED"
                       % ", ".join(str(c) for c in candidates if c))


SHARED = _shared_directory()
CORPUS = SHARED / "corpus"
SEEDS = SHARED / "seeds"
SCHEMAS = Path("/usr/share/libvirt/schemas")


def ensure_collection_link():
    """Expose the checkout as ansible_collections/virt/libvirt (Ansible's required layout)."""
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

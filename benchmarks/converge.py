"""Converge N guests on the local libvirt daemon with virt.libvirt and with community.libvirt, side by side.

    benchmarks/converge.py 10 50 200        # every row, for each N
    benchmarks/converge.py 50 --repeat 3    # every row three times, the median reported
    benchmarks/converge.py --rows adhoc --adhoc-samples 20   # only the ad-hoc pair, 20 pairs

Rows per N, all run by the same ansible-core from this script's own virtual environment
(benchmarks/.venv: the ``ansible`` package from PyPI, which bundles community.libvirt):

  ping            one ansible.builtin.ping task: the floor of any Ansible run
  bulk            virt.libvirt.domain with ``domains:`` (N items), one task
  single-loop     virt.libvirt.domain with ``name:``, looped over the N guests
  community-loop  community.libvirt.virt ``command: define`` with ``xml:``, looped over the N guests

and once per run, whatever N:

  adhoc           one ad-hoc ``ansible localhost -m ...`` call of each module on one defined guest:
                  virt.libvirt.domain ``name=<guest> state=present`` (looks the guest up, reads and compares its
                  definition, reports it) against community.libvirt.virt ``command=get_xml name=<guest>`` (looks
                  it up, reads its definition, reports it), paired: --adhoc-samples pairs, the order alternating
                  from pair to pair, after one pair that is not counted, medians of CPU and wall seconds
                  (community.libvirt's half left out, with a note, when it is not installed)

and, when asked for with ``--rows`` (not run by default), storage volumes instead of guests:

  volume-bulk            virt.libvirt.volume with ``volumes:`` (N raw 1 MiB volumes), one task
  volume-community-loop  community.libvirt.virt_volume ``state: present`` with ``xml:``, looped over the N
                         volumes (left out, with a note, when the installed community.libvirt has no virt_volume)

    benchmarks/converge.py 50 --rows ping,volume-bulk,volume-community-loop

Each sample of a per-N row is three runs: the first run (defines N guests), the identical re-run, and the re-run in
check mode. Every guest is the same minimal KVM (QEMU without /dev/kvm) definition, defined and never started,
named ``bench<6 hex>-<row>-n<N>s<sample>-<i>`` (the adhoc row's one guest ``bench<6 hex>-adhoc``); a row's guests are undefined after each sample, and every
guest of the run at exit (Ctrl-C and failures included). The volume rows use one dir pool of the run in
/var/lib/libvirt/images, removed with its volumes at exit. The table goes to stdout, the raw numbers to
benchmarks/results/ as JSON.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
VENV_DIR = BENCH_DIR / ".venv"
RESULTS_DIR = BENCH_DIR / "results"
COLLECTIONS_ROOT = REPO / ".build" / "collections"
CALLBACKS_DIR = REPO / "tests" / "support" / "callback_plugins"
# What the benchmark's environment holds; a change here rebuilds it.
VENV_REQUIREMENTS = ("ansible", "lxml", "libvirt-python==9.0.0")
URI = "qemu:///system"

GUEST_ROWS = ("ping", "bulk", "single-loop", "community-loop")
VOLUME_ROWS = ("volume-bulk", "volume-community-loop")
# Measured once per run, not per N.
ADHOC_ROW = "adhoc"
ROWS = GUEST_ROWS + VOLUME_ROWS + (ADHOC_ROW,)
DEFAULT_ROWS = GUEST_ROWS + (ADHOC_ROW,)
ADHOC_SAMPLES = 10
OUR_ROWS = ("ping", "bulk", "single-loop", "volume-bulk")
# Rows cheap enough to sample several times by default; the loops take minutes at N=200.
CHEAP_ROWS = ("ping", "bulk")
CHEAP_ROW_SAMPLES = 3
# Short row tags in guest names (bench1a2b3c-bulk-n50s0-7).
ROW_TAGS = {"bulk": "bulk", "single-loop": "loop", "community-loop": "cl", "volume-bulk": "vbulk",
            "volume-community-loop": "vcl"}
VOLUME_IMAGES = Path("/var/lib/libvirt/images")
TASK_NAME = "benchmark task"
PHASES = ("first", "rerun", "check")


# -- the environment ---------------------------------------------------------------------------------------
def ensure_venv():
    """Create benchmarks/.venv with the ``ansible`` package, lxml and libvirt-python (once)."""
    marker = VENV_DIR / ".installed"
    wanted = "\n".join(VENV_REQUIREMENTS)
    if marker.is_file() and marker.read_text(encoding="utf-8") == wanted:
        return
    print("creating %s (the ansible package from PyPI, lxml, libvirt-python) ..." % VENV_DIR, flush=True)
    python = VENV_DIR / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV_DIR)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q"] + list(VENV_REQUIREMENTS), check=True)
    marker.write_text(wanted, encoding="utf-8")


def running_in(python):
    """Whether this process is ``python``'s environment (the one with libvirt-python and ansible-core)."""
    prefix = subprocess.run([str(python), "-c", "import sys; print(sys.prefix)"], capture_output=True, text=True,
                            check=True).stdout.strip()
    return Path(prefix).resolve() == Path(sys.prefix).resolve()


def ensure_collection_link():
    """ansible_collections/virt/libvirt -> the checkout, as `make collection` makes it."""
    link = COLLECTIONS_ROOT / "ansible_collections" / "virt" / "libvirt"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.is_symlink() and not link.exists():
        link.symlink_to(REPO)


def versions():
    """ansible-core, the ansible package, community.libvirt and libvirt as this run uses them."""
    from importlib import metadata  # pylint: disable=import-outside-toplevel

    found = {"python": platform.python_version()}
    for package in ("ansible-core", "ansible", "lxml", "libvirt-python"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = None
    try:
        import ansible_collections.community.libvirt as community_libvirt  # pylint: disable=import-outside-toplevel

        manifest = Path(list(community_libvirt.__path__)[0]) / "MANIFEST.json"
        found["community.libvirt"] = json.loads(manifest.read_text())["collection_info"]["version"]
    except (ImportError, OSError, ValueError, KeyError):
        found["community.libvirt"] = None
    libvirt, connection = _connect()
    try:
        found["libvirt"] = _version_text(connection.getLibVersion())
        found["qemu"] = _version_text(connection.getVersion())
    finally:
        connection.close()
    return found


def _version_text(number):
    return "%d.%d.%d" % (number // 1000000, number // 1000 % 1000, number % 1000)


def machine():
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as stream:
            model = next((line.split(":", 1)[1].strip() for line in stream if line.startswith("model name")), "")
    except OSError:
        pass
    mem_kib = 0
    try:
        with open("/proc/meminfo", encoding="utf-8") as stream:
            mem_kib = int(next(line.split()[1] for line in stream if line.startswith("MemTotal")))
    except (OSError, StopIteration, ValueError):
        pass
    return {"cpus": os.cpu_count(), "cpu_model": model, "memory_gib": round(mem_kib / 1024 / 1024, 1),
            "kvm": _kvm_usable(), "kernel": platform.release()}


def _kvm_usable():
    return os.access("/dev/kvm", os.R_OK | os.W_OK)


# -- the guests and the playbooks --------------------------------------------------------------------------
def guest_prefix(run_prefix, row, count, sample):
    return "%s-%s-n%ds%d-" % (run_prefix, ROW_TAGS[row], count, sample)


def guest_specs(prefix, count):
    """The row's guests as an inventory would list them: the same minimal definition, a unique name."""
    return [{"name": "%s%d" % (prefix, index), "type": "kvm" if _kvm_usable() else "qemu", "memory": "128MiB",
             "vcpu": 1, "os": {"type": "hvm", "arch": platform.machine()}}
            for index in range(count)]


def adhoc_guest_name(run_prefix):
    return "%s-%s" % (run_prefix, ADHOC_ROW)


def define_adhoc_guest(run_prefix):
    """The adhoc row's guest: the rows' minimal definition, defined (never started) by the script itself, so
    neither module's call defines anything."""
    spec = dict(guest_specs("", 1)[0], name=adhoc_guest_name(run_prefix))
    _libvirt, connection = _connect()
    try:
        connection.defineXML(
            "<domain type='%s'><name>%s</name><memory unit='MiB'>%s</memory><vcpu>%d</vcpu>"
            "<os><type arch='%s'>%s</type></os></domain>" % (
                spec["type"], spec["name"], spec["memory"][:-len("MiB")], spec["vcpu"], spec["os"]["arch"],
                spec["os"]["type"]))
    finally:
        connection.close()
    return spec["name"]


# The same guest as community.libvirt's users write it: a domain XML template.
_COMMUNITY_XML = (
    "<domain type='{{ item.type }}'><name>{{ item.name }}</name>"
    "<memory unit='MiB'>{{ item.memory | regex_replace('MiB$', '') }}</memory><vcpu>{{ item.vcpu }}</vcpu>"
    "<os><type arch='{{ item.os.arch }}'>{{ item.os.type }}</type></os></domain>"
)

_TASKS = {
    "ping": {"name": TASK_NAME, "ansible.builtin.ping": None},
    "bulk": {"name": TASK_NAME, "virt.libvirt.domain": {
        "uri": URI, "state": "present", "domains": "{{ bench_guests }}"}},
    "single-loop": {"name": TASK_NAME, "virt.libvirt.domain": {
        "uri": URI, "state": "present", "name": "{{ item.name }}", "type": "{{ item.type }}",
        "memory": "{{ item.memory }}", "vcpu": "{{ item.vcpu }}", "os": "{{ item.os }}"},
        "loop": "{{ bench_guests }}", "loop_control": {"label": "{{ item.name }}"}},
    "community-loop": {"name": TASK_NAME, "community.libvirt.virt": {
        "uri": URI, "command": "define", "xml": _COMMUNITY_XML},
        "loop": "{{ bench_guests }}", "loop_control": {"label": "{{ item.name }}"}},
    "volume-bulk": {"name": TASK_NAME, "virt.libvirt.volume": {
        "uri": URI, "pool": "{{ bench_pool }}", "volumes": "{{ bench_volumes }}"}},
    "volume-community-loop": {"name": TASK_NAME, "community.libvirt.virt_volume": {
        "uri": URI, "pool": "{{ bench_pool }}", "name": "{{ item.name }}", "state": "present",
        "xml": "<volume><name>{{ item.name }}</name><capacity unit='bytes'>{{ item.capacity }}</capacity>"
               "<target><format type='{{ item.format }}'/></target></volume>"},
        "loop": "{{ bench_volumes }}", "loop_control": {"label": "{{ item.name }}"}},
}


def volume_specs(prefix, count):
    """The row's volumes: raw, 1 MiB, a unique name (the same for both volume rows but for the prefix)."""
    return [{"name": "%s%d.img" % (prefix, index), "format": "raw", "capacity": 1024 * 1024}
            for index in range(count)]


def bench_pool_name(run_prefix):
    return "%s-pool" % run_prefix


def make_bench_pool(run_prefix):
    """The run's dir pool for the volume rows, defined, built and started."""
    libvirt, connection = _connect()
    path = VOLUME_IMAGES / bench_pool_name(run_prefix)
    try:
        pool = connection.storagePoolDefineXML(
            "<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>"
            % (bench_pool_name(run_prefix), path), 0)
        pool.build(0)
        pool.create(0)
    finally:
        connection.close()
    del libvirt


def volumes_named(run_prefix, prefix):
    _libvirt, connection = _connect()
    try:
        pool = connection.storagePoolLookupByName(bench_pool_name(run_prefix))
        pool.refresh(0)
        return sorted(name for name in pool.listVolumes() if name.startswith(prefix))
    finally:
        connection.close()


def delete_volumes(run_prefix, prefix=None, remove_pool=False):
    """Delete the volumes of the run's pool (those starting with ``prefix``), and the pool itself when asked."""
    libvirt, connection = _connect()
    removed = 0
    try:
        try:
            pool = connection.storagePoolLookupByName(bench_pool_name(run_prefix))
        except libvirt.libvirtError:
            return 0
        if pool.isActive():
            pool.refresh(0)
            for volume in pool.listAllVolumes(0):
                if prefix is None or volume.name().startswith(prefix):
                    volume.delete(0)
                    removed += 1
        if remove_pool:
            if pool.isActive():
                pool.destroy()
            pool.delete(0)
            pool.undefine()
    finally:
        connection.close()
    return removed


def write_playbook(workdir, row):
    path = Path(workdir) / ("%s.yml" % row)
    play = [{"name": "benchmark %s" % row, "hosts": "localhost", "gather_facts": False, "tasks": [_TASKS[row]]}]
    # JSON is YAML: no YAML library needed to write it.
    path.write_text(json.dumps(play, indent=1), encoding="utf-8")
    return path


class BenchmarkError(Exception):
    pass


class Runner:
    """Runs ansible-playbook from one Python environment, timing it and reading its task's result."""

    def __init__(self, workdir, python):
        self.workdir = Path(workdir)
        self.python = Path(python)
        self.inventory = self.workdir / "inventory.ini"
        self.inventory.write_text("localhost ansible_connection=local ansible_python_interpreter=%s\n" % python,
                                  encoding="utf-8")
        # An empty configuration: no ansible.cfg from the cwd, the home directory or /etc applies.
        self.config = self.workdir / "ansible.cfg"
        self.config.write_text("", encoding="utf-8")

    def env(self, results_path):
        env = dict(os.environ)
        # Nothing from the caller's Python environment leaks into the controller or the modules.
        for key in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
            env.pop(key, None)
        env = {key: value for key, value in env.items() if not key.startswith("ANSIBLE_")}
        env.update({
            "ANSIBLE_CONFIG": str(self.config),
            "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS_ROOT),
            "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACKS_DIR),
            "ANSIBLE_CALLBACKS_ENABLED": "json_results",
            "VIRT_LIBVIRT_RESULTS": str(results_path),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_LOCALHOST_WARNING": "0",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
            "ANSIBLE_DEPRECATION_WARNINGS": "0",
        })
        return env

    def run(self, playbook, vars_path, check=False):
        """One ansible-playbook run: wall seconds, CPU seconds (the controller and every process it waited
        for, modules included; not libvirtd's share) and the task's result."""
        results_path = self.workdir / "results.jsonl"
        if results_path.exists():
            results_path.unlink()
        command = [str(self.python.parent / "ansible-playbook"), "-i", str(self.inventory), "-e", "@%s" % vars_path,
                   str(playbook)]
        if check:
            command.append("--check")
        usage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        # A session of its own: Ctrl-C reaches only this script, which stops the run and waits until none of
        # its processes is left before removing the guests (else a module could define one after the clean-up).
        process = subprocess.Popen(command, cwd=str(self.workdir), env=self.env(results_path), text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            output = process.communicate()[0]
        except BaseException:
            stop_process_group(process)
            raise
        wall = time.monotonic() - started
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (usage.ru_utime - usage_before.ru_utime) + (usage.ru_stime - usage_before.ru_stime)
        records = []
        if results_path.exists():
            with open(results_path, encoding="utf-8") as stream:
                records = [json.loads(line) for line in stream if line.strip()]
        # A module without check mode (community.libvirt's virt_volume) is skipped by --check: counted as 0 changed.
        task_results = [r for r in records if r["task"] == TASK_NAME and r["status"] in ("ok", "failed", "skipped")]
        if process.returncode != 0 or not task_results:
            raise BenchmarkError("%s%s failed (rc=%d):\n%s" % (
                playbook.name, " --check" if check else "", process.returncode, output[-6000:]))
        return {"wall_s": wall, "cpu_s": cpu, "changed": changed_guests(task_results[-1]["result"]),
                "skipped": task_results[-1]["status"] == "skipped"}

    def adhoc(self, module, module_args):
        """One ad-hoc call, ``ansible localhost -m module -a module_args``: wall seconds, CPU seconds (counted as
        for a playbook run) and whether the module reported a change."""
        command = [str(self.python.parent / "ansible"), "localhost", "-i", str(self.inventory), "-m", module,
                   "-a", module_args]
        usage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        process = subprocess.Popen(command, cwd=str(self.workdir), env=self.env(self.workdir / "results.jsonl"),
                                   text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        try:
            output, errors = process.communicate()
        except BaseException:
            stop_process_group(process)
            raise
        wall = time.monotonic() - started
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (usage.ru_utime - usage_before.ru_utime) + (usage.ru_stime - usage_before.ru_stime)
        # The ad-hoc output: "localhost | SUCCESS => {the result as JSON}".
        status, _arrow, result = output.partition(" => ")
        try:
            result = json.loads(result)
        except ValueError:
            result = None
        if process.returncode != 0 or "SUCCESS" not in status or not isinstance(result, dict):
            raise BenchmarkError("ansible -m %s -a %r failed (rc=%d):\n%s%s" % (
                module, module_args, process.returncode, output[-4000:], errors[-2000:]))
        return {"wall_s": wall, "cpu_s": cpu, "changed": bool(result.get("changed"))}


def stop_process_group(process, grace=10.0):
    """Interrupt ansible-playbook and everything it started, and wait until all of it has exited."""
    for sig in (signal.SIGINT, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            process.poll()  # reaps the leader, so the group empties
            try:
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
    process.wait()


def changed_guests(result):
    """Guests a run reported changed, from the task's per-guest results (a loop's items or ``domains:``)."""
    items = result.get("results")
    if items is None:  # ping: no guests
        return 0
    return sum(1 for item in items if item.get("changed"))


# -- libvirt: counting, comparing and removing the benchmark's guests --------------------------------------
def _connect():
    import libvirt  # pylint: disable=import-outside-toplevel

    libvirt.registerErrorHandler(lambda *_: None, None)
    return libvirt, libvirt.open(URI)


def guests_named(prefix):
    _libvirt, connection = _connect()
    try:
        return sorted(d.name() for d in connection.listAllDomains() if d.name().startswith(prefix))
    finally:
        connection.close()


def definition_shape(name):
    """The guest's persistent definition without what differs per guest (name, uuid): every row must
    define the same guest, or the comparison is not fair."""
    libvirt, connection = _connect()
    try:
        xml = connection.lookupByName(name).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    finally:
        connection.close()
    xml = re.sub(r"<name>[^<]*</name>", "<name/>", xml)
    return re.sub(r"<uuid>[^<]*</uuid>", "<uuid/>", xml)


def undefine_guests(prefix):
    """Undefine (destroying first if running) every guest whose name starts with ``prefix``."""
    libvirt, connection = _connect()
    removed = 0
    try:
        for domain in connection.listAllDomains():
            if not domain.name().startswith(prefix):
                continue
            try:
                if domain.isActive():
                    domain.destroy()
                if domain.isPersistent():
                    domain.undefine()
                removed += 1
            except libvirt.libvirtError as error:
                print("warning: could not remove %s: %s" % (domain.name(), error), file=sys.stderr)
    finally:
        connection.close()
    return removed


# -- measuring ---------------------------------------------------------------------------------------------
def measure_row(runner, workdir, row, count, run_prefix, sample):
    """One sample of one row: first run, identical re-run, check-mode re-run; the row's guests removed after.
    Returns the runs' numbers and the shape of the row's first guest (None for ping)."""
    if row in VOLUME_ROWS:
        return measure_volume_row(runner, workdir, row, count, run_prefix, sample), None
    playbook = write_playbook(workdir, row)
    prefix = guest_prefix(run_prefix, row, count, sample) if row != "ping" else None
    guests = guest_specs(prefix, count) if prefix else []
    vars_path = Path(workdir) / ("%s-vars.json" % row)
    vars_path.write_text(json.dumps({"bench_guests": guests}), encoding="utf-8")
    runs, shape = {}, None
    try:
        runs["first"] = runner.run(playbook, vars_path)
        if guests:
            defined = guests_named(prefix)
            if len(defined) != count:
                raise BenchmarkError("%s: the first run defined %d of %d guests" % (row, len(defined), count))
            shape = definition_shape(guests[0]["name"])
        runs["rerun"] = runner.run(playbook, vars_path)
        runs["check"] = runner.run(playbook, vars_path, check=True)
    finally:
        if prefix:
            undefine_guests(prefix)
    return runs, shape


def measure_volume_row(runner, workdir, row, count, run_prefix, sample):
    """One sample of a volume row: first run, identical re-run, check-mode re-run; its volumes deleted after."""
    playbook = write_playbook(workdir, row)
    prefix = guest_prefix(run_prefix, row, count, sample)
    vars_path = Path(workdir) / ("%s-vars.json" % row)
    vars_path.write_text(json.dumps({"bench_volumes": volume_specs(prefix, count),
                                     "bench_pool": bench_pool_name(run_prefix)}), encoding="utf-8")
    runs = {}
    try:
        runs["first"] = runner.run(playbook, vars_path)
        made = volumes_named(run_prefix, prefix)
        if len(made) != count:
            raise BenchmarkError("%s: the first run created %d of %d volumes" % (row, len(made), count))
        runs["rerun"] = runner.run(playbook, vars_path)
        runs["check"] = runner.run(playbook, vars_path, check=True)
    finally:
        delete_volumes(run_prefix, prefix)
    return runs


# The adhoc row's pair: what each side does to the one guest, as (module, arguments).
def adhoc_calls(guest):
    return {
        "virt.libvirt": ("virt.libvirt.domain", "name=%s state=present uri=%s" % (guest, URI)),
        "community.libvirt": ("community.libvirt.virt", "command=get_xml name=%s uri=%s" % (guest, URI)),
    }


def measure_adhoc(runner, run_prefix, samples, sides):
    """The adhoc row: ``samples`` pairs of ad-hoc calls on one guest, one call of each side per pair, the side
    that goes first alternating from pair to pair (so that neither always runs on a warmer cache). A first pair
    is not counted: it fills the caches both sides then use (libvirtd's, the page cache). The guest is
    undefined after the last pair."""
    guest = define_adhoc_guest(run_prefix)
    calls = adhoc_calls(guest)
    runs = {side: [] for side in sides}
    try:
        for side in sides:
            runner.adhoc(*calls[side])
        for sample in range(samples):
            order = sides if sample % 2 == 0 else tuple(reversed(sides))
            for side in order:
                run = runner.adhoc(*calls[side])
                if run["changed"]:
                    raise BenchmarkError("the ad-hoc call of %s changed the guest %s" % (calls[side][0], guest))
                runs[side].append(run)
            print("  adhoc pair %-3d %s" % (sample, ", ".join(
                "%s %.2f s cpu" % (side, runs[side][-1]["cpu_s"]) for side in sides)), flush=True)
    finally:
        undefine_guests(guest)
    return {"guest": guest, "calls": {side: list(calls[side]) for side in sides}, "runs": runs}


def summarise_adhoc(adhoc):
    """Medians (and minimums) of each side's CPU and wall seconds; the ratio of ours to community.libvirt's, and
    the median of the pairs' differences (ours minus theirs: what a slow spell on the machine disturbs least)."""
    summary = {}
    for side, runs in adhoc["runs"].items():
        summary[side] = {"samples": len(runs), "cpu_s": statistics.median(r["cpu_s"] for r in runs),
                         "min_cpu_s": min(r["cpu_s"] for r in runs),
                         "wall_s": statistics.median(r["wall_s"] for r in runs),
                         "min_wall_s": min(r["wall_s"] for r in runs)}
    if len(summary) == 2:
        ours, community = summary["virt.libvirt"], summary["community.libvirt"]
        summary["cpu_ratio"] = ours["cpu_s"] / community["cpu_s"]
        summary["wall_ratio"] = ours["wall_s"] / community["wall_s"]
        pairs = list(zip(adhoc["runs"]["virt.libvirt"], adhoc["runs"]["community.libvirt"]))
        summary["cpu_difference_s"] = statistics.median(a["cpu_s"] - b["cpu_s"] for a, b in pairs)
        summary["wall_difference_s"] = statistics.median(a["wall_s"] - b["wall_s"] for a, b in pairs)
    return summary


def format_adhoc_table(adhoc, summary):
    header = ("form", "call", "pairs", "cpu s (median)", "cpu s (min)", "wall s (median)", "wall s (min)")
    lines = []
    for side, (module, module_args) in adhoc["calls"].items():
        numbers = summary[side]
        call = "%s %s" % (module, module_args.split(" uri=")[0].replace(adhoc["guest"], "<guest>"))
        lines.append(("%s-%s" % (ADHOC_ROW, side), call, str(numbers["samples"]), "%.3f" % numbers["cpu_s"],
                      "%.3f" % numbers["min_cpu_s"], "%.3f" % numbers["wall_s"], "%.3f" % numbers["min_wall_s"]))
    return _render_table(header, lines)


def has_community_virt_volume(python):
    """Whether the community.libvirt of ``python``'s environment has virt_volume (1.4.0 and later)."""
    found = subprocess.run([str(python), "-c", "import ansible_collections.community.libvirt.plugins.modules."
                                               "virt_volume"], capture_output=True, check=False)
    return found.returncode == 0


def summarise_row(samples):
    """Each number the median over the row's samples (one sample: itself)."""
    summary = {"samples": len(samples)}
    for phase in PHASES:
        summary["%s_s" % phase] = statistics.median(s[phase]["wall_s"] for s in samples)
        summary["%s_cpu_s" % phase] = statistics.median(s[phase]["cpu_s"] for s in samples)
        summary["%s_changed" % phase] = statistics.median(s[phase]["changed"] for s in samples)
    return summary


def add_derived(rows, count, ping_samples):
    """Ratios to community.libvirt and the seconds each guest adds beyond the ping baseline.

    The baseline is the median of every ping run at this N (first, re-run and check runs are the same
    work), the steadiest number the noisy machine gives for an empty Ansible run."""
    baseline = baseline_cpu = None
    if ping_samples:
        baseline = statistics.median(s[p]["wall_s"] for s in ping_samples for p in PHASES)
        baseline_cpu = statistics.median(s[p]["cpu_s"] for s in ping_samples for p in PHASES)
        rows["ping"]["baseline_s"], rows["ping"]["baseline_cpu_s"] = baseline, baseline_cpu
    for row, numbers in rows.items():
        community = rows.get("volume-community-loop" if row in VOLUME_ROWS else "community-loop")
        if community and row != "ping":
            numbers["vs_community_first"] = community["first_s"] / numbers["first_s"]
            numbers["vs_community_rerun"] = community["rerun_s"] / numbers["rerun_s"]
        if baseline is not None and row != "ping":
            numbers["s_per_guest"] = (numbers["first_s"] - baseline) / count
            numbers["rerun_s_per_guest"] = (numbers["rerun_s"] - baseline) / count
            numbers["cpu_s_per_guest"] = (numbers["first_cpu_s"] - baseline_cpu) / count
            numbers["rerun_vs_ping"] = numbers["rerun_s"] / baseline
        if row != "ping":
            numbers["per_second"] = count / numbers["first_s"]  # guests or volumes converged per second


def _render_table(header, lines):
    widths = [max(len(header[i]), *(len(line[i]) for line in lines)) for i in range(len(header))]

    def render(cells):
        return "| " + " | ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i])
                                 for i, cell in enumerate(cells)) + " |"

    separator = "|" + "|".join("-" * (width + 1) + (":" if i else "-") for i, width in enumerate(widths)) + "|"
    return "\n".join([render(header), separator] + [render(line) for line in lines])


def _ratio(numbers, key):
    return "%.1fx" % numbers[key] if key in numbers else "-"


def format_table(rows_by_n):
    """The issue's table: wall seconds (medians), changed counts, ratios, seconds per guest."""
    header = ("form", "N", "first run s", "re-run s", "changed on re-run", "check re-run s", "changed in check",
              "community/this first", "community/this re-run", "s per item", "items per s")
    lines = []
    for count, rows in rows_by_n.items():
        for row, numbers in rows.items():
            guests = row != "ping"
            lines.append((
                row, str(count), "%.2f" % numbers["first_s"], "%.2f" % numbers["rerun_s"],
                "%d" % numbers["rerun_changed"] if guests else "-", "%.2f" % numbers["check_s"],
                "%d" % numbers["check_changed"] if guests else "-",
                _ratio(numbers, "vs_community_first"), _ratio(numbers, "vs_community_rerun"),
                "%.4f" % numbers["s_per_guest"] if "s_per_guest" in numbers else "-",
                "%.1f" % numbers["per_second"] if "per_second" in numbers else "-",
            ))
    return _render_table(header, lines)


def format_cpu_table(rows_by_n):
    """CPU seconds of the same runs: less disturbed by other work on the machine than wall time."""
    header = ("form", "N", "samples", "first run cpu s", "re-run cpu s", "check re-run cpu s", "cpu s per guest")
    lines = []
    for count, rows in rows_by_n.items():
        for row, numbers in rows.items():
            lines.append((
                row, str(count), str(numbers["samples"]), "%.2f" % numbers["first_cpu_s"],
                "%.2f" % numbers["rerun_cpu_s"], "%.2f" % numbers["check_cpu_s"],
                "%.4f" % numbers["cpu_s_per_guest"] if "cpu_s_per_guest" in numbers else "-",
            ))
    return _render_table(header, lines)


def check_targets(rows_by_n, adhoc_summary=None):
    """The issue's targets as (target, measured, met); a target needing an N or row not run is left out."""
    verdicts = []
    if adhoc_summary and "cpu_ratio" in adhoc_summary:
        ours, community = adhoc_summary["virt.libvirt"], adhoc_summary["community.libvirt"]
        # Both the medians and the median of the pairs' differences: either alone can favour a side by chance.
        verdicts.append(("ad-hoc call: virt.libvirt.domain's CPU seconds <= community.libvirt.virt's (%d pairs)"
                         % ours["samples"], "%.2fx (medians %.3f s vs %.3f s; pairs' difference %+.3f s)" % (
                             adhoc_summary["cpu_ratio"], ours["cpu_s"], community["cpu_s"],
                             adhoc_summary["cpu_difference_s"]),
                         ours["cpu_s"] <= community["cpu_s"] and adhoc_summary["cpu_difference_s"] <= 0))
    at_50 = rows_by_n.get(50, {})
    bulk = at_50.get("bulk")
    if bulk and "vs_community_first" in bulk:
        verdicts.append(("N=50: bulk first run >= 10x faster than community.libvirt's loop",
                         "%.1fx (%.2f s vs %.2f s)" % (bulk["vs_community_first"], bulk["first_s"],
                                                       at_50["community-loop"]["first_s"]),
                         bulk["vs_community_first"] >= 10))
    if bulk:
        verdicts.append(("N=50: bulk re-run reports 0 changed", "%d changed" % bulk["rerun_changed"],
                         bulk["rerun_changed"] == 0))
    if bulk and "rerun_vs_ping" in bulk:
        verdicts.append(("N=50: bulk re-run <= 1.5x the ping baseline", "%.2fx (%.2f s vs %.2f s)" % (
            bulk["rerun_vs_ping"], bulk["rerun_s"], at_50["ping"]["baseline_s"]), bulk["rerun_vs_ping"] <= 1.5))
    per_guest = {n: rows["bulk"]["s_per_guest"] for n, rows in rows_by_n.items()
                 if "s_per_guest" in rows.get("bulk", {})}
    if len(per_guest) > 1:
        smallest, largest = min(per_guest), max(per_guest)
        # Flat: a guest costs no more at the largest N than at the smallest (+50% for timing noise). A higher
        # cost at small N is the fixed cost not fully subtracted, not growth.
        met = per_guest[largest] <= 1.5 * max(per_guest[smallest], 0.0)
        verdicts.append(("bulk s per guest flat from N=%d to N=%d" % (smallest, largest),
                         ", ".join("N=%d: %.4f" % item for item in sorted(per_guest.items())), met))
    return verdicts


def samples_for(row, repeat):
    if repeat is not None:
        return repeat
    return CHEAP_ROW_SAMPLES if row in CHEAP_ROWS else 1


def measure(args, runner, workdir, run_prefix):
    """Every per-N row for every N: the samples by N and row, and the guest definitions seen. Samples of a row
    interleave with the other rows' (ping, bulk, ping, bulk...) so that a slow spell on the machine does not
    land on one row only."""
    samples_by_n, shapes = {}, {}
    rows = [row for row in args.rows if row != ADHOC_ROW]
    if not rows:
        return samples_by_n, shapes
    for count in args.counts:
        samples = {row: [] for row in rows}
        for sample in range(max(samples_for(row, args.repeat) for row in rows)):
            for row in rows:
                if sample >= samples_for(row, args.repeat):
                    continue
                runs, shape = measure_row(runner, workdir, row, count, run_prefix, sample)
                samples[row].append(runs)
                if shape:
                    shapes.setdefault(shape, []).append("%s N=%d" % (row, count))
                print("  N=%-4d %-15s first %6.2f s, re-run %6.2f s (%d changed), check %6.2f s (%s)" % (
                    count, row, runs["first"]["wall_s"], runs["rerun"]["wall_s"], runs["rerun"]["changed"],
                    runs["check"]["wall_s"], "skipped: no check mode" if runs["check"].get("skipped")
                    else "%d changed" % runs["check"]["changed"]), flush=True)
        samples_by_n[count] = samples
    return samples_by_n, shapes


def build_rows(samples_by_n):
    """The table's numbers: medians of the samples, then ratios and seconds per guest."""
    rows_by_n = {}
    for count, samples in samples_by_n.items():
        rows_by_n[count] = {row: summarise_row(row_samples) for row, row_samples in samples.items()}
        add_derived(rows_by_n[count], count, samples.get("ping"))
    return rows_by_n


def print_report(rows_by_n, adhoc=None):
    """The tables and the targets' verdicts, on stdout; returns the verdicts."""
    adhoc_summary = summarise_adhoc(adhoc) if adhoc else None
    if rows_by_n:
        print("\nWall seconds (medians):\n")
        print(format_table(rows_by_n))
        print("\nCPU seconds of the same runs (ansible-playbook and its modules, not libvirtd):\n")
        print(format_cpu_table(rows_by_n))
    if adhoc_summary:
        print("\nAd-hoc calls on one guest, paired (ansible and its module, not libvirtd):\n")
        print(format_adhoc_table(adhoc, adhoc_summary))
        if "cpu_ratio" in adhoc_summary:
            print("\nvirt.libvirt / community.libvirt: %.2fx CPU, %.2fx wall (medians); virt.libvirt minus "
                  "community.libvirt, median of the pairs: %+.3f s CPU, %+.3f s wall" % (
                      adhoc_summary["cpu_ratio"], adhoc_summary["wall_ratio"], adhoc_summary["cpu_difference_s"],
                      adhoc_summary["wall_difference_s"]))
    baselines = ["N=%d: %.2f s" % (n, rows["ping"]["baseline_s"]) for n, rows in rows_by_n.items() if "ping" in rows]
    if baselines:
        print("\nping baseline (median of every ping run at that N; s per guest is measured from it): %s"
              % ", ".join(baselines))
    verdicts = check_targets(rows_by_n, adhoc_summary)
    if verdicts:
        print()
        for target, measured, met in verdicts:
            print("%s %s: %s" % ("MET    " if met else "NOT MET", target, measured))
    return verdicts


# -- main --------------------------------------------------------------------------------------------------
def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("counts", nargs="*", type=int, default=[10, 50, 200], metavar="N",
                        help="numbers of guests (default: 10 50 200)")
    parser.add_argument("--rows", default=",".join(DEFAULT_ROWS),
                        help="comma-separated rows to run, of %s (default: %s)" % (", ".join(ROWS), ",".join(DEFAULT_ROWS)))
    parser.add_argument("--ours-only", action="store_true",
                        help="only ping, bulk and single-loop: community.libvirt is not needed")
    parser.add_argument("--adhoc-samples", type=int, default=ADHOC_SAMPLES,
                        help="pairs of ad-hoc calls in the adhoc row (default: %d)" % ADHOC_SAMPLES)
    parser.add_argument("--python", metavar="PATH",
                        help="use the ansible-core of this interpreter's environment instead of creating "
                             "benchmarks/.venv (it needs lxml and libvirt-python; community.libvirt for its row)")
    parser.add_argument("--repeat", type=int, default=None,
                        help="samples per row, the median reported (default: %d for %s, 1 for the loops)"
                             % (CHEAP_ROW_SAMPLES, " and ".join(CHEAP_ROWS)))
    parser.add_argument("--results-dir", default=str(RESULTS_DIR), help="where the JSON results go")
    parser.add_argument("--report", metavar="JSON",
                        help="print the tables of a saved results file again (nothing is run)")
    args = parser.parse_args(argv)
    args.rows = [row for row in args.rows.split(",") if row]
    unknown = [row for row in args.rows if row not in ROWS]
    if unknown:
        parser.error("unknown rows: %s (known: %s)" % (", ".join(unknown), ", ".join(ROWS)))
    if args.ours_only:
        args.rows = [row for row in args.rows if row in OUR_ROWS]
    if not args.rows:
        parser.error("no rows to run")
    if any(count < 1 for count in args.counts) or (args.repeat is not None and args.repeat < 1) \
            or args.adhoc_samples < 1:
        parser.error("N, --repeat and --adhoc-samples must be at least 1")
    args.counts = list(dict.fromkeys(args.counts))
    return args


def _exit_on_sigterm(_signum, _frame):
    raise SystemExit(143)  # runs the clean-up in main's finally


def main(argv):
    args = parse_args(argv)
    if args.report:
        saved = json.loads(Path(args.report).read_text(encoding="utf-8"))
        print("run %s, %s: %s" % (saved["run"], saved["started"], json.dumps(saved["versions"])))
        print_report(build_rows({int(n): samples for n, samples in saved["samples"].items()}), saved.get("adhoc"))
        return 0
    if args.python:
        python = Path(args.python).absolute()
    else:
        ensure_venv()
        python = VENV_DIR / "bin" / "python"
    if not running_in(python):
        # Again under the environment's own interpreter: it has libvirt-python for counting and cleaning up.
        os.execv(str(python), [str(python), str(Path(__file__).resolve())] + list(argv))
    ensure_collection_link()
    signal.signal(signal.SIGTERM, _exit_on_sigterm)

    run_prefix = "bench%s" % uuid.uuid4().hex[:6]
    found = versions()
    if "community-loop" in args.rows and not found["community.libvirt"]:
        raise BenchmarkError("community.libvirt is not installed for %s; use --ours-only" % python)
    if "volume-community-loop" in args.rows and not has_community_virt_volume(python):
        print("note: community.libvirt %s has no virt_volume (added in 1.4.0): the volume-community-loop row is "
              "left out" % found["community.libvirt"], flush=True)
        args.rows.remove("volume-community-loop")
    adhoc_sides = ("virt.libvirt", "community.libvirt") if found["community.libvirt"] else ("virt.libvirt",)
    if ADHOC_ROW in args.rows and not found["community.libvirt"]:
        print("note: community.libvirt is not installed for %s: the adhoc row measures virt.libvirt only" % python,
              flush=True)
    print("run %s: ansible-core %s (ansible %s, community.libvirt %s), libvirt %s, QEMU %s, %d CPUs, load %s"
          % (run_prefix, found["ansible-core"], found["ansible"], found["community.libvirt"], found["libvirt"],
             found["qemu"], os.cpu_count(), " ".join("%.2f" % load for load in os.getloadavg())), flush=True)
    load_before = os.getloadavg()
    started = datetime.datetime.now(datetime.timezone.utc)
    volume_rows = [row for row in args.rows if row in VOLUME_ROWS]
    try:
        if volume_rows:
            make_bench_pool(run_prefix)
        with tempfile.TemporaryDirectory(prefix="virt-libvirt-bench-") as workdir:
            runner = Runner(workdir, python)
            samples_by_n, shapes = measure(args, runner, workdir, run_prefix)
            adhoc = measure_adhoc(runner, run_prefix, args.adhoc_samples, adhoc_sides) \
                if ADHOC_ROW in args.rows else None
    finally:
        if volume_rows:
            delete_volumes(run_prefix, remove_pool=True)
        leftovers = undefine_guests(run_prefix)
        if leftovers:
            print("removed %d guests left by an interrupted row" % leftovers, file=sys.stderr)

    rows_by_n = build_rows(samples_by_n)
    verdicts = print_report(rows_by_n, adhoc)
    if len(shapes) > 1:
        print("\nwarning: the rows defined different guests: %s" % list(shapes.values()), file=sys.stderr)

    report = {
        "run": run_prefix, "started": started.isoformat(timespec="seconds"),
        "seconds": round((datetime.datetime.now(datetime.timezone.utc) - started).total_seconds(), 1),
        "command": [Path(__file__).name] + list(argv), "versions": found, "machine": machine(),
        "load_average_before": load_before, "load_average_after": os.getloadavg(),
        "rows": {str(n): rows for n, rows in rows_by_n.items()},
        "samples": {str(n): samples for n, samples in samples_by_n.items()},
        "adhoc": adhoc, "adhoc_summary": summarise_adhoc(adhoc) if adhoc else None,
        "same_definition_in_every_row": len(shapes) <= 1,
        "targets": [{"target": target, "measured": measured, "met": met} for target, measured, met in verdicts],
    }
    results_dir = Path(args.results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    out = results_dir / ("converge-%s-%s.json" % (started.strftime("%Y%m%d-%H%M%S"), run_prefix))
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print("\nraw numbers: %s" % out)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BenchmarkError as error:
        print("benchmark failed: %s" % error, file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("interrupted; the run's guests were removed", file=sys.stderr)
        sys.exit(130)

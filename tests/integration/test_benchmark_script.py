"""benchmarks/converge.py run for real in its dry form (N=2, our rows only, the project's own ansible-core and
no community.libvirt download), so the script cannot rot silently. Timings are the benchmark's business and
are never asserted here: these tests check what it counts and that it leaves no guest behind."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.support.harness import REPO

pytestmark = pytest.mark.integration

SCRIPT = REPO / "benchmarks" / "converge.py"


def _guests_with_prefix(connection, prefix):
    return sorted(domain.name() for domain in connection.listAllDomains() if domain.name().startswith(prefix))


def test_dry_run_counts_changes_from_per_guest_results_and_removes_every_guest(tmp_path, qemu_uri,
                                                                               libvirt_connection):
    process = subprocess.run(
        [sys.executable, str(SCRIPT), "2", "--ours-only", "--python", sys.executable, "--repeat", "1",
         "--results-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=600, cwd=str(REPO), check=False,
    )
    assert process.returncode == 0, process.stdout[-4000:] + process.stderr[-4000:]
    reports = list(tmp_path.glob("converge-*.json"))
    assert len(reports) == 1
    report = json.loads(reports[0].read_text())

    rows = report["rows"]["2"]
    assert list(rows) == ["ping", "bulk", "single-loop"]
    for form in ("bulk", "single-loop"):
        assert (rows[form]["first_changed"], rows[form]["rerun_changed"], rows[form]["check_changed"]) == (2, 0, 0)
        assert "s_per_guest" in rows[form]
    assert "s_per_guest" not in rows["ping"]
    assert report["same_definition_in_every_row"] is True
    assert report["versions"]["ansible-core"]
    assert "| bulk " in process.stdout and "| single-loop " in process.stdout
    # The targets need N=50 and the community row; with N=2 only none can be judged.
    assert report["targets"] == []
    assert _guests_with_prefix(libvirt_connection(qemu_uri), report["run"]) == []


def test_interrupt_stops_the_playbook_and_removes_the_guests_it_defined(tmp_path, qemu_uri, libvirt_connection):
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT), "20", "--rows", "single-loop", "--python", sys.executable, "--repeat", "1",
         "--results-dir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(REPO), start_new_session=True,
    )
    connection = libvirt_connection(qemu_uri)
    try:
        banner = process.stdout.readline()
        assert banner.startswith("run bench"), banner + process.stderr.read()
        run_prefix = banner.split()[1].rstrip(":")
        deadline = time.monotonic() + 300
        while len(_guests_with_prefix(connection, run_prefix)) < 2:
            assert process.poll() is None, "the run ended before it was interrupted: %s" % process.stderr.read()
            assert time.monotonic() < deadline, "no guest was defined within 300 s"
            time.sleep(0.2)
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends
        _output, errors = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 130, errors
    assert _guests_with_prefix(connection, run_prefix) == []
    assert list(tmp_path.glob("converge-*.json")) == []


def test_volume_row_counts_volumes_and_removes_its_pool(tmp_path, qemu_uri, libvirt_connection):
    process = subprocess.run(
        [sys.executable, str(SCRIPT), "2", "--rows", "ping,volume-bulk", "--python", sys.executable, "--repeat", "1",
         "--results-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=600, cwd=str(REPO), check=False,
    )
    assert process.returncode == 0, process.stdout[-4000:] + process.stderr[-4000:]
    report = json.loads(next(tmp_path.glob("converge-*.json")).read_text())
    rows = report["rows"]["2"]
    assert list(rows) == ["ping", "volume-bulk"]
    volumes = rows["volume-bulk"]
    assert (volumes["first_changed"], volumes["rerun_changed"], volumes["check_changed"]) == (2, 0, 0)
    assert volumes["per_second"] > 0 and "| volume-bulk " in process.stdout
    connection = libvirt_connection(qemu_uri)
    assert not [p for p in connection.listAllStoragePools() if p.name().startswith(report["run"])]
    assert not os.path.exists("/var/lib/libvirt/images/%s-pool" % report["run"])


def test_adhoc_row_calls_the_module_on_one_guest_and_removes_it(tmp_path, qemu_uri, libvirt_connection):
    # The project's environment has no community.libvirt: the row measures our side only, and says so.
    process = subprocess.run(
        [sys.executable, str(SCRIPT), "--rows", "adhoc", "--adhoc-samples", "2", "--python", sys.executable,
         "--results-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=600, cwd=str(REPO), check=False,
    )
    assert process.returncode == 0, process.stdout[-4000:] + process.stderr[-4000:]
    report = json.loads(next(tmp_path.glob("converge-*.json")).read_text())
    adhoc = report["adhoc"]
    assert adhoc["guest"] == report["run"] + "-adhoc"
    assert list(adhoc["runs"]) == ["virt.libvirt"]
    runs = adhoc["runs"]["virt.libvirt"]
    assert len(runs) == 2 and not any(run["changed"] for run in runs)
    assert all(run["cpu_s"] > 0 and run["wall_s"] > 0 for run in runs)
    assert report["adhoc_summary"]["virt.libvirt"]["samples"] == 2
    assert "measures virt.libvirt only" in process.stdout and "| adhoc-virt.libvirt " in process.stdout
    assert report["rows"] == {} and report["targets"] == []
    assert _guests_with_prefix(libvirt_connection(qemu_uri), report["run"]) == []

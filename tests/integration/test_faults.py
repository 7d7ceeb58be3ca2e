"""Faults survived, produced for real against the daemon: libvirtd stopped before and during a task,
restarted between two tasks, libvirt refusing a new definition, a guest that ignores ACPI shutdown, two
ansible-playbook runs converging one host at once, a bridge name that is taken.

This file stops and restarts the shared libvirtd: run it holding the daemon lock exclusively,
``flock -x /tmp/virt-libvirt-daemon.lock .venv/bin/python -m pytest tests/integration/test_faults.py``.
"""
from __future__ import annotations

import concurrent.futures
import os
import signal
import subprocess
import threading
import time

import pytest

from tests.support.harness import run_module, run_playbook
from tests.support.libvirt_api import libvirt_binding

pytestmark = pytest.mark.integration

QEMU_URI = "qemu:///system"
TEST_DRIVER_URI = "test+unix:///default"


def libvirtd_pid():
    found = subprocess.run(["pgrep", "-x", "libvirtd"], capture_output=True, text=True, check=False).stdout.split()
    return int(found[0]) if found else None


def answers(uri):
    libvirt = libvirt_binding()
    try:
        libvirt.open(uri).close()
    except libvirt.libvirtError:
        return False
    return True


def daemon_has_client(command_part):
    """Whether a process whose command line contains ``command_part`` is connected to libvirtd."""
    clients = subprocess.run(["virt-admin", "-q", "client-list", "libvirtd"], capture_output=True, text=True,
                             check=False)
    for line in clients.stdout.splitlines():
        info = subprocess.run(["virt-admin", "client-info", "libvirtd", line.split()[0]], capture_output=True,
                              text=True, check=False).stdout
        pids = [field.split(":")[1].strip() for field in info.splitlines() if field.startswith("unix_process_id")]
        try:
            with open("/proc/%s/cmdline" % pids[0], encoding="utf-8", errors="replace") as stream:
                if command_part in stream.read():
                    return True
        except (IndexError, OSError):
            continue  # a remote client, or one gone meanwhile
    return False


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))
        time.sleep(0.1)


class Daemon:
    """The real libvirtd of this machine (started directly, no systemd), stopped and started by pid."""

    def __init__(self, holders):
        self.holders = holders

    def stop(self):
        pid = libvirtd_pid()
        assert pid is not None, "libvirtd is not running"
        os.kill(pid, signal.SIGTERM)
        wait_until(lambda: not os.path.exists("/proc/%d" % pid), 60, "libvirtd %d to exit" % pid)
        assert not answers(QEMU_URI)

    def start(self):
        if libvirtd_pid() is None:
            # close_fds (the default) matters: the daemon must not inherit the flock descriptor.
            subprocess.run(["libvirtd", "-d"], check=True, close_fds=True, stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: answers(QEMU_URI) and answers(TEST_DRIVER_URI), 60, "libvirtd to answer")
        self.holders.hold_test_driver()

    def restart(self):
        self.stop()
        self.start()


class HeldTestDriver:
    """The test driver forgets everything when its last client goes, and a daemon restart drops every
    client, the session's `test_driver_uri` holder too. After each restart one holder is started again, so
    the tests that run after this file still find a test driver that keeps what they define."""

    def __init__(self):
        self.processes = []

    def hold_test_driver(self):
        self.processes = [p for p in self.processes if p.poll() is None]
        if self.processes:
            return
        self.processes.append(subprocess.Popen(["virsh", "-c", TEST_DRIVER_URI, "event", "--all", "--loop"],
                                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_until(lambda: answers(TEST_DRIVER_URI), 10, "the test driver")

    def release(self):
        for process in self.processes:
            process.terminate()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def test_driver_holders():
    holders = HeldTestDriver()
    yield holders
    holders.release()


@pytest.fixture
def daemon(test_driver_holders):
    """Stop and start the daemon; whatever the test does, it answers again afterwards."""
    controller = Daemon(test_driver_holders)
    try:
        yield controller
    finally:
        controller.start()


# -- objects the tests make ------------------------------------------------------------------------
def kvm_guest(name, domain_type, **options):
    """A guest with no disk: it sits in its firmware when started. Without <acpi/> in its features QEMU
    has no ACPI at all, so a shutdown request reaches nothing and the guest keeps running."""
    return dict({"uri": QEMU_URI, "name": name, "type": domain_type, "memory": "64MiB", "vcpu": 1,
                 "os": {"type": "hvm", "boot": ["hd"]}, "features": ["apic"]}, **options)


def isolated_network(name, subnet, **options):
    return dict({"uri": QEMU_URI, "name": name, "forward": {"mode": "none"},
                 "ips": [{"address": "10.236.%d.1" % subnet, "prefix": 24,
                          "dhcp": {"range": {"start": "10.236.%d.10" % subnet, "end": "10.236.%d.50" % subnet}}}]},
                **options)


def network_item(name, subnet):
    """The same network as an item of the bulk form (no uri of its own)."""
    return {key: value for key, value in isolated_network(name, subnet).items() if key != "uri"}


def domain_xml(connection, name):
    libvirt = libvirt_binding()
    return connection.lookupByName(name).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE | libvirt.VIR_DOMAIN_XML_SECURE)


def network_xml(connection, name):
    libvirt = libvirt_binding()
    return connection.networkLookupByName(name).XMLDesc(libvirt.VIR_NETWORK_XML_INACTIVE)


def qemu_pid(name):
    with open("/run/libvirt/qemu/%s.pid" % name, encoding="ascii") as stream:
        return int(stream.read().strip())


def power(connection, name):
    libvirt = libvirt_binding()
    return {libvirt.VIR_DOMAIN_RUNNING: "running", libvirt.VIR_DOMAIN_SHUTOFF: "shutoff",
            libvirt.VIR_DOMAIN_PAUSED: "paused"}.get(connection.lookupByName(name).state()[0], "other")


def names(objects):
    return {item.name() for item in objects}


def link_exists(name):
    return os.path.exists("/sys/class/net/%s" % name)


def assert_clean_failure(result):
    assert result.failed, result
    assert "Traceback" not in result["msg"] and "Traceback" not in result["_stderr"], result["_stderr"]


@pytest.fixture
def ensure_removed(qemu_uri):
    """Guests and networks a test names here are removed after it, whatever happened."""
    guests, networks = [], []
    yield guests, networks
    for name in guests:
        run_module("domain", {"uri": qemu_uri, "name": name, "state": "absent"})
    for name in networks:
        run_module("network", {"uri": qemu_uri, "name": name, "state": "absent"})


# -- the daemon stopped, restarted -----------------------------------------------------------------
def test_daemon_stopped_before_a_task(daemon, unique_name, kvm_domain_type, libvirt_connection):
    guest, network = unique_name("down"), unique_name("down")
    cases = []
    for uri in (QEMU_URI, TEST_DRIVER_URI):
        cases += [
            ("domain", {"uri": uri, "name": guest, "type": kvm_domain_type, "memory": "64MiB",
                        "os": {"type": "hvm"}, "state": "running"}),
            ("domain", {"uri": uri, "domains": [{"name": guest, "memory": "64MiB"}], "state": "present"}),
            ("domain", {"uri": uri, "name": guest, "state": "absent"}),
            ("network", dict(isolated_network(network, 1), uri=uri, state="active")),
            ("network", {"uri": uri, "networks": [network_item(network, 1)]}),
            ("capabilities_facts", {"uri": uri}),
            ("capabilities_facts", {"uri": uri, "read_only": True}),
        ]

    daemon.stop()
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda case: run_module(case[0], case[1]), cases))
    daemon.start()

    for (module, args), result in zip(cases, results):
        assert_clean_failure(result)
        assert result["_rc"] == 1, (module, result)
        assert result["option"] == "uri", (module, result)
        assert result["msg"].startswith("uri: cannot connect to libvirt at uri '%s': Failed to connect socket"
                                        % args["uri"]), (module, result["msg"])
        assert "Is the libvirt daemon (libvirtd" in result["msg"], result["msg"]
        assert "libvirt-sock" in result["libvirt_message"]
    # Nothing was made by the failed tasks once the daemon is back.
    connection = libvirt_connection(QEMU_URI)
    assert guest not in names(connection.listAllDomains())
    assert network not in names(connection.listAllNetworks())


def test_daemon_stops_during_a_task(daemon, unique_name, kvm_domain_type, libvirt_connection, ensure_removed):
    name = unique_name("mid")
    ensure_removed[0].append(name)
    assert run_module("domain", kvm_guest(name, kvm_domain_type, state="running")).changed
    guest_pid = qemu_pid(name)

    # The guest ignores the ACPI request: the module polls its state until the daemon goes away under it.
    outcome = {}
    waiting = threading.Thread(target=lambda: outcome.update(
        result=run_module("domain", kvm_guest(name, kvm_domain_type, state="shutdown", shutdown_timeout=60))))
    waiting.start()
    wait_until(lambda: daemon_has_client("plugins.modules.domain"), 60, "the module to connect")
    time.sleep(2)  # past the shutdown request, into the wait for the guest to stop
    daemon.stop()
    waiting.join(timeout=90)
    daemon.start()

    result = outcome["result"]
    assert_clean_failure(result)
    assert "the connection to the libvirt daemon was lost: did it stop or restart during the task?" \
        in result["msg"], result["msg"]
    assert result["msg"].startswith("reading the state of %s failed: " % name), result["msg"]
    # libvirtd going away does not take its guests with it; the restarted daemon finds them running.
    assert qemu_pid(name) == guest_pid
    assert power(libvirt_connection(QEMU_URI), name) == "running"


PLAYBOOK_ACROSS_A_RESTART = """\
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Network before the restart
      virt.libvirt.network: "{{ network | combine({'state': 'active'}) }}"

    - name: Guest before the restart
      virt.libvirt.domain: "{{ guest | combine({'state': 'running'}) }}"
      register: before

    - name: Tell the test the first tasks are done
      ansible.builtin.copy:
        dest: "{{ marker_dir }}/first-done"
        content: "{{ before.domain.id }}"
        mode: "0644"

    - name: Wait for the daemon restart
      ansible.builtin.wait_for:
        path: "{{ marker_dir }}/restarted"
        timeout: 120

    - name: Guest after the restart
      virt.libvirt.domain: "{{ guest | combine({'state': 'running'}) }}"
      register: after

    - name: Network after the restart, a static lease added live
      virt.libvirt.network: "{{ network_with_lease | combine({'state': 'active'}) }}"

    - name: A new guest on the restarted daemon
      virt.libvirt.domain: "{{ second_guest | combine({'state': 'running'}) }}"

    - name: Capabilities after the restart
      virt.libvirt.capabilities_facts:
        uri: qemu:///system
"""


def test_daemon_restarted_between_two_tasks(daemon, unique_name, kvm_domain_type, tmp_path, libvirt_connection,
                                            ensure_removed):
    guest, second, network = unique_name("rs"), unique_name("rs"), unique_name("rs")
    ensure_removed[0].extend([guest, second])
    ensure_removed[1].append(network)
    network_options = isolated_network(network, 2)
    lease = {"mac": "52:54:00:36:02:0b", "name": "leased", "ip": "10.236.2.11"}
    with_lease = dict(network_options, ips=[dict(network_options["ips"][0],
                                                 dhcp=dict(network_options["ips"][0]["dhcp"], hosts=[lease]))])
    nic = [{"type": "network", "network": network, "mac": "52:54:00:36:02:0a", "model": "virtio"}]
    playbook = tmp_path / "restart.yml"
    playbook.write_text(PLAYBOOK_ACROSS_A_RESTART)
    extra_vars = {"marker_dir": str(tmp_path), "network": network_options, "network_with_lease": with_lease,
                  "guest": kvm_guest(guest, kvm_domain_type, interfaces=nic),
                  "second_guest": kvm_guest(second, kvm_domain_type,
                                            interfaces=[dict(nic[0], mac="52:54:00:36:02:0c")])}

    outcome = {}
    play = threading.Thread(target=lambda: outcome.update(run=run_playbook(playbook, extra_vars=extra_vars)))
    play.start()
    wait_until(lambda: (tmp_path / "first-done").exists() or not play.is_alive(), 180, "the first tasks")
    assert (tmp_path / "first-done").exists(), outcome["run"].stdout[-4000:]
    guest_pid, daemon_pid = qemu_pid(guest), libvirtd_pid()
    daemon.restart()
    assert libvirtd_pid() != daemon_pid
    (tmp_path / "restarted").write_text("")
    play.join(timeout=300)

    run = outcome["run"]
    assert run.returncode == 0, run.stdout[-4000:]
    before, after = run.task("Guest before the restart"), run.task("Guest after the restart")
    # The restarted daemon knows the guest and its definition: the second task finds nothing to do.
    assert before["changed"] and not after["changed"], after
    assert after["domain"]["id"] == before["domain"]["id"] and qemu_pid(guest) == guest_pid
    leased = run.task("Network after the restart, a static lease added live")
    assert leased["changed"] and [u["command"] for u in leased["live_updates"]] == ["add"]
    assert run.task("A new guest on the restarted daemon")["domain"]["state"] == "running"
    assert run.task("Capabilities after the restart")["ansible_facts"]["libvirt_capabilities"]["kvm"] in (True, False)

    connection = libvirt_connection(QEMU_URI)
    assert connection.networkLookupByName(network).isActive()
    assert "10.236.2.11" in connection.networkLookupByName(network).XMLDesc(0)  # the live network has the lease
    assert power(connection, guest) == "running" and power(connection, second) == "running"


# -- libvirt refusing a definition -----------------------------------------------------------------
def test_libvirt_refuses_a_new_guest_definition(unique_name, kvm_domain_type, libvirt_connection, ensure_removed):
    name = unique_name("ref")
    ensure_removed[0].append(name)
    options = kvm_guest(name, kvm_domain_type, state="running")
    assert run_module("domain", options).changed
    connection = libvirt_connection(QEMU_URI)
    stored, guest_id = domain_xml(connection, name), connection.lookupByName(name).ID()

    # Well-formed to the model, refused by libvirt when it checks them against QEMU at define time.
    refusals = [
        ({"os": dict(options["os"], machine="pc-no-such-machine-9.9")}, "pc-no-such-machine-9.9"),
        ({"emulator": "/usr/bin/qemu-system-no-such-arch"}, "/usr/bin/qemu-system-no-such-arch"),
    ]
    for change, named in refusals:
        for extra in ({}, {"restart": True, "force": True}):
            refused = run_module("domain", dict(options, **dict(change, **extra)))
            assert_clean_failure(refused)
            assert refused["msg"].startswith("defining the guest %s failed: " % name), refused["msg"]
            assert named in refused["msg"] and named in refused["libvirt_message"]
            # The old definition is byte for byte what it was, and the guest was not touched.
            assert domain_xml(connection, name) == stored
            assert power(connection, name) == "running" and connection.lookupByName(name).ID() == guest_id

    bulk = run_module("domain", {"uri": QEMU_URI, "state": "running",
                                 "domains": [dict({k: v for k, v in options.items() if k not in ("uri", "state")},
                                                  **refusals[0][0])]})
    assert_clean_failure(bulk)
    assert bulk["msg"].startswith("domains: 1 of 1 guests failed: %s: defining the guest %s failed: " % (name, name))
    assert domain_xml(connection, name) == stored


def test_libvirt_refuses_a_new_network_definition(unique_name, libvirt_connection, ensure_removed):
    name = unique_name("ref")
    ensure_removed[1].append(name)
    options = isolated_network(name, 3, state="active")
    assert run_module("network", options).changed
    connection = libvirt_connection(QEMU_URI)
    stored = network_xml(connection, name)

    # The model takes a hostdev network on a named interface; libvirt wants PCI addresses there.
    refused = run_module("network", dict(options, forward={"mode": "hostdev", "dev": "eth0"}, ips=[]))
    assert_clean_failure(refused)
    assert refused["msg"].startswith("defining the network %s failed: unsupported configuration: hostdev network"
                                     % name), refused["msg"]
    assert "PCI address" in refused["libvirt_message"]
    assert network_xml(connection, name) == stored
    assert connection.networkLookupByName(name).isActive()
    assert not run_module("network", options).changed


# -- a guest that ignores ACPI shutdown --------------------------------------------------------------
def test_guest_that_ignores_acpi_shutdown(unique_name, kvm_domain_type, libvirt_connection, ensure_removed):
    name = unique_name("acpi")
    ensure_removed[0].append(name)
    options = kvm_guest(name, kvm_domain_type, state="running")
    assert run_module("domain", options).changed
    connection = libvirt_connection(QEMU_URI)
    assert "<acpi/>" not in domain_xml(connection, name)
    guest_id = connection.lookupByName(name).ID()

    ignored = run_module("domain", dict(options, state="shutdown", shutdown_timeout=2))
    assert_clean_failure(ignored)
    assert ignored["option"] == "shutdown_timeout"
    assert ignored["msg"] == ("shutdown_timeout: the guest %s did not shut down within 2 seconds "
                              "(shutdown_timeout); it may ignore ACPI shutdown. Set force: true to power it off"
                              % name)
    assert power(connection, name) == "running" and connection.lookupByName(name).ID() == guest_id

    # A change that needs a restart: without force the restart cannot happen, and the task leaves the
    # definition as it was (not half applied), so that a rerun with force still sees the change.
    stored = domain_xml(connection, name)
    bigger = dict(options, memory="96MiB", restart=True, shutdown_timeout=2)
    not_restarted = run_module("domain", bigger)
    assert_clean_failure(not_restarted)
    assert not_restarted["option"] == "shutdown_timeout"
    assert not_restarted["msg"].endswith("Set force: true to power it off. The guest's definition is left as it "
                                         "was"), not_restarted["msg"]
    assert domain_xml(connection, name) == stored
    assert connection.lookupByName(name).ID() == guest_id  # still the same run of the guest

    restarted = run_module("domain", dict(bigger, force=True))
    assert restarted.changed and not restarted.failed, restarted
    assert restarted["restart_required"] is False and restarted["domain"]["state"] == "running"
    assert connection.lookupByName(name).ID() != guest_id and connection.lookupByName(name).info()[2] == 98304
    assert not run_module("domain", dict(bigger, force=True)).changed

    forced = run_module("domain", dict(options, memory="96MiB", state="shutdown", shutdown_timeout=2, force=True))
    assert forced.changed and forced["changes"] == ["state"] and power(connection, name) == "shutoff"


# -- two ansible-playbook runs at once -------------------------------------------------------------
PLAYBOOK_CONVERGE = """\
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Networks
      virt.libvirt.network:
        uri: qemu:///system
        state: "{{ network_state }}"
        networks: "{{ networks }}"

    - name: Guests
      virt.libvirt.domain:
        uri: qemu:///system
        state: "{{ guest_state }}"
        domains: "{{ guests }}"
"""


PLAYBOOK_REMOVE = """\
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Guests
      virt.libvirt.domain:
        uri: qemu:///system
        state: "{{ guest_state }}"
        domains: "{{ guests }}"

    - name: Networks
      virt.libvirt.network:
        uri: qemu:///system
        state: "{{ network_state }}"
        networks: "{{ networks }}"
"""


def test_two_runs_converge_one_host_at_once(unique_name, kvm_domain_type, tmp_path, libvirt_connection,
                                            ensure_removed):
    network = unique_name("two")
    guests = [unique_name("two") for _guest in range(5)]
    ensure_removed[0].extend(guests)
    ensure_removed[1].append(network)
    playbook = tmp_path / "converge.yml"
    playbook.write_text(PLAYBOOK_CONVERGE)
    declared = {
        "network_state": "active", "guest_state": "running",
        "networks": [network_item(network, 4)],
        "guests": [{"name": name, "type": kvm_domain_type, "memory": "64MiB", "vcpu": 1, "os": {"type": "hvm"},
                    "features": ["apic"], "interfaces": [{"type": "network", "network": network}]}
                   for name in guests],
    }
    connection = libvirt_connection(QEMU_URI)

    def both_at_once(extra_vars):
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            runs = list(pool.map(lambda _: run_playbook(playbook, extra_vars=extra_vars), range(2)))
        for run in runs:
            assert run.returncode == 0, run.stdout[-6000:]
        return runs

    first = both_at_once(declared)
    assert connection.networkLookupByName(network).isActive()
    for name in guests:
        assert power(connection, name) == "running"
        document = domain_xml(connection, name)
        assert "<memory unit='KiB'>65536</memory>" in document and "<source network='%s'/>" % network in document
        assert document.count("<interface ") == 1  # one NIC, whichever run defined the guest
    # Between them the two runs created each object once: every guest and the network changed in one run
    # at least; neither run failed over the other's work.
    for task in ("Networks", "Guests"):
        assert any(run.task(task)["changed"] for run in first)

    third = run_playbook(playbook, extra_vars=declared)
    assert third.returncode == 0 and third.changed_tasks() == [], third.stdout[-4000:]

    removed = dict(declared, network_state="absent", guest_state="absent")
    playbook.write_text(PLAYBOOK_REMOVE)
    both_at_once(removed)
    assert not set(guests) & names(connection.listAllDomains())
    assert network not in names(connection.listAllNetworks())
    assert run_playbook(playbook, extra_vars=removed).changed_tasks() == []


# -- a bridge name that is taken ---------------------------------------------------------------------
def test_bridge_name_taken_by_a_host_interface(run_prefix, unique_name, libvirt_connection, ensure_removed):
    bridge, name = run_prefix + "hb", unique_name("br")
    ensure_removed[1].append(name)
    subprocess.run(["ip", "link", "add", bridge, "type", "bridge"], check=True)
    try:
        taken = run_module("network", isolated_network(name, 5, bridge={"name": bridge}, state="active"))
        assert_clean_failure(taken)
        assert taken["option"] == "bridge.name"
        assert taken["msg"] == (
            "bridge.name: a host interface named %s exists already, not made by libvirt for this network; choose "
            "another bridge.name, or omit it to let libvirt pick a free virbrN (starting the network %s failed: "
            "error creating bridge interface %s: File exists)" % (bridge, name, bridge)), taken["msg"]
        # Nothing changed: the network this task defined is gone again, the host's bridge is still there.
        assert name not in names(libvirt_connection(QEMU_URI).listAllNetworks())
        assert link_exists(bridge)
    finally:
        subprocess.run(["ip", "link", "delete", bridge], check=True)


def test_bridge_name_taken_by_another_network(run_prefix, unique_name, libvirt_connection, ensure_removed):
    owner, newcomer, existing = unique_name("br"), unique_name("br"), unique_name("br")
    ensure_removed[1].extend([owner, newcomer, existing])
    bridge = run_prefix + "ob"
    assert run_module("network", isolated_network(owner, 6, bridge={"name": bridge}, state="active")).changed
    assert run_module("network", isolated_network(existing, 7, bridge={"name": run_prefix + "eb"},
                                                  state="active")).changed
    connection = libvirt_connection(QEMU_URI)
    owner_xml, existing_xml = network_xml(connection, owner), network_xml(connection, existing)

    expected = ("bridge.name: the bridge %s is already used by the network %s; choose another bridge.name, or "
                "omit it to let libvirt pick a free virbrN (defining the network %%s failed: internal error: "
                "bridge name '%s' already in use.)" % (bridge, owner, bridge))
    new = run_module("network", isolated_network(newcomer, 8, bridge={"name": bridge}, state="active"))
    assert_clean_failure(new)
    assert new["option"] == "bridge.name" and new["msg"] == expected % newcomer, new["msg"]
    assert newcomer not in names(connection.listAllNetworks())

    moved = run_module("network", isolated_network(existing, 7, bridge={"name": bridge}, state="active"))
    assert_clean_failure(moved)
    assert moved["msg"] == expected % existing, moved["msg"]

    # Nothing else changed, and the owner still works: active, same definition, its bridge up.
    assert network_xml(connection, existing) == existing_xml and network_xml(connection, owner) == owner_xml
    assert connection.networkLookupByName(owner).isActive() and link_exists(bridge)
    assert not run_module("network", isolated_network(owner, 6, bridge={"name": bridge}, state="active")).changed


def test_storage_survives_a_daemon_restart(daemon, unique_name, tmp_path, libvirt_connection):
    """A dir pool (autostart) and a qcow2 volume in it, converged, then the daemon restarts: the same tasks
    change nothing after it (the pool is active again, the volume kept), and a volume deleted by hand while the
    daemon was down is made again."""
    pool = unique_name("fpool")
    path = str(tmp_path / pool)
    pool_params = {"uri": QEMU_URI, "name": pool, "type": "dir", "target": {"path": path}, "build": True,
                   "state": "active", "autostart": True}
    volume_params = {"uri": QEMU_URI, "pool": pool, "name": "disk.qcow2", "capacity": "16MiB", "format": "qcow2"}
    try:
        assert run_module("pool", pool_params).changed
        assert run_module("volume", volume_params).changed
        daemon.restart()
        for params, module in ((pool_params, "pool"), (volume_params, "volume")):
            again = run_module(module, params)
            assert not again.failed and not again.changed, again
        assert libvirt_connection(QEMU_URI).storagePoolLookupByName(pool).isActive()
        daemon.stop()
        os.remove(os.path.join(path, "disk.qcow2"))
        daemon.start()
        remade = run_module("volume", volume_params)
        assert not remade.failed and remade["changes"] == ["volume"], remade
        assert os.path.exists(os.path.join(path, "disk.qcow2"))
    finally:
        run_module("pool", {"uri": QEMU_URI, "name": pool, "state": "absent", "delete": True, "force": True})

"""Shared fixtures: the collection on the import path, real libvirt URIs, unique names, clean-up."""
from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid

import pytest

from tests.support import harness
from tests.support.libvirt_api import libvirt_binding

harness.ensure_collection_link()

QEMU_URI = "qemu:///system"
TEST_DRIVER_URI = "test+unix:///default"


def pytest_configure(config):
    # Declared here as well as in pytest.ini, so the tests run the same from an installed collection.
    config.addinivalue_line("markers", "integration: runs against the real libvirt daemon")
    config.addinivalue_line("markers", "slow: takes more than a few seconds")
    config.addinivalue_line("markers", "corpus: needs libvirt's test corpus and the source documents (../shared)")


def pytest_collection_modifyitems(config, items):
    """Without libvirt's test corpus (../shared), the tests that need it skip and say why: those marked
    ``corpus`` and those parametrized over its files, which pytest would otherwise skip as an empty set."""
    if harness.SHARED is not None:
        return
    for item in items:
        reads_corpus = getattr(getattr(item, "module", None), "CORPUS", None) is not None
        empty_set = reads_corpus and any(mark.kwargs.get("reason", "").startswith("got empty parameter set")
                                         for mark in item.iter_markers("skip"))
        if empty_set or item.get_closest_marker("corpus"):
            item.add_marker(pytest.mark.skip(reason=harness.SHARED_MISSING), append=False)


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem):
    """A test that reads a file of the absent corpus is skipped with the reason, not failed."""
    try:
        return (yield)
    except FileNotFoundError as error:
        if harness.SHARED is None and str(error.filename or "").startswith(str(harness.ABSENT_SHARED)):
            pytest.skip(harness.SHARED_MISSING)
        raise


@pytest.fixture(scope="session")
def run_prefix():
    """A prefix unique to this test run; every domain, network and bridge a test makes uses it."""
    return "vlt%s" % uuid.uuid4().hex[:6]


@pytest.fixture
def unique_name(run_prefix, request):
    counter = {"n": 0}

    def make(label="t"):
        counter["n"] += 1
        return "%s-%s-%d" % (run_prefix, label, counter["n"])

    return make


@pytest.fixture(scope="session")
def qemu_uri():
    """qemu:///system on the real daemon; fails (not skips) when the daemon does not answer."""
    libvirt = libvirt_binding()
    connection = libvirt.open(QEMU_URI)
    connection.close()
    return QEMU_URI


@pytest.fixture(scope="session")
def kvm_domain_type():
    """'kvm' where /dev/kvm is usable, else 'qemu' (TCG)."""
    return "kvm" if os.access("/dev/kvm", os.R_OK | os.W_OK) else "qemu"


@pytest.fixture(scope="session")
def test_driver_uri():
    """libvirt's test driver served by the daemon. Its state lives only while a client holds a
    connection, so one `virsh event --loop` holds it for the whole run."""
    holder = subprocess.Popen(["virsh", "-c", TEST_DRIVER_URI, "event", "--all", "--loop"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    libvirt = libvirt_binding()
    for _attempt in range(50):
        try:
            libvirt.open(TEST_DRIVER_URI).close()
            break
        except libvirt.libvirtError:
            time.sleep(0.1)
    yield TEST_DRIVER_URI
    holder.terminate()
    holder.wait(timeout=10)


@pytest.fixture(scope="session", autouse=True)
def cleanup_run_objects(run_prefix):
    """After the run: no domain, network, storage pool (with its volumes) or bridge with this run's prefix is
    left behind."""
    yield
    libvirt = libvirt_binding()
    for uri in (QEMU_URI, TEST_DRIVER_URI):
        try:
            connection = libvirt.open(uri)
        except libvirt.libvirtError:
            continue
        try:
            for domain in connection.listAllDomains():
                if domain.name().startswith(run_prefix):
                    if domain.isActive():
                        domain.destroy()
                    flags = getattr(libvirt, "VIR_DOMAIN_UNDEFINE_NVRAM", 0)
                    try:
                        domain.undefineFlags(flags)
                    except libvirt.libvirtError:
                        pass
            for pool in connection.listAllStoragePools():
                if not pool.name().startswith(run_prefix):
                    continue
                try:
                    if pool.isActive():
                        for volume in pool.listAllVolumes():
                            volume.delete(0)
                        pool.destroy()
                    if pool.isPersistent():
                        pool.undefine()
                except libvirt.libvirtError:
                    pass  # removed meanwhile
            for network in connection.listAllNetworks():
                if network.name().startswith(run_prefix):
                    if network.isActive():
                        network.destroy()
                    if network.isPersistent():
                        network.undefine()
        finally:
            connection.close()
    if shutil.which("ip"):
        links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=False).stdout
        for line in links.splitlines():
            name = line.split(":")[1].strip().split("@")[0]
            if name.startswith(run_prefix):
                subprocess.run(["ip", "link", "delete", name], capture_output=True, check=False)


@pytest.fixture
def libvirt_connection():
    """Open real libvirt connections for assertions; all closed after the test."""
    libvirt = libvirt_binding()
    opened = []

    def open_uri(uri):
        connection = libvirt.open(uri)
        opened.append(connection)
        return connection

    yield open_uri
    for connection in opened:
        connection.close()


@pytest.fixture(scope="session")
def image_dir(run_prefix):
    """A directory the qemu user can read, for this run's disk images; removed after the run."""
    path = os.path.join("/var/lib/libvirt/images", run_prefix)
    os.makedirs(path, mode=0o755, exist_ok=True)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def make_image(image_dir, unique_name):
    """Create a sparse raw image (or any file) in ``image_dir`` and return its path."""

    def make(label="disk", size=8 * 1024 * 1024, suffix=".img"):
        path = os.path.join(image_dir, unique_name(label) + suffix)
        with open(path, "wb") as stream:
            stream.truncate(size)
        return path

    return make

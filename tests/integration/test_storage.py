"""virt.libvirt.pool and virt.libvirt.volume against the real daemon: a dir pool built in this run's directory,
a base image uploaded from a qcow2 file made with qemu-img, copy-on-write clones, a full copy, a raw volume grown
(never shrunk), cloud-init disks read back with pycdlib, a KVM guest started on a clone and a seed and removed
with its storage, an fs pool on a loop device, netfs and iSCSI pools in libvirt's test driver, 50 volumes in one
task, and the faults of storage changed outside libvirt.

Every pool is named with this run's prefix and lives under the run's own directory in /var/lib/libvirt/images;
conftest removes every pool of the run (with its volumes) at the end, whatever happened."""
from __future__ import annotations

import io
import json
import os
import shutil
import subprocess

import pycdlib
import pytest

from tests.support.harness import run_module
from tests.support.libvirt_api import libvirt_binding

pytestmark = pytest.mark.integration


def qemu_img_info(path):
    output = subprocess.run(["qemu-img", "info", "--output=json", "--backing-chain", "-U", path],
                            capture_output=True, text=True, check=True).stdout
    return json.loads(output)


def seed_contents(path):
    """The label and files of a cloud-init image as any ISO reader sees them."""
    iso = pycdlib.PyCdlib()
    with open(path, "rb") as stream:
        iso.open_fp(stream)
        files = {}
        for name in ("user-data", "meta-data", "network-config"):
            output = io.BytesIO()
            try:
                iso.get_file_from_iso_fp(output, rr_path="/" + name)
            except pycdlib.pycdlibexception.PyCdlibException:
                continue
            files[name] = output.getvalue().decode()
        label = iso.pvd.volume_identifier.decode().strip()
        iso.close()
    return label, files


@pytest.fixture
def make_pool(qemu_uri, image_dir, unique_name):
    """A running dir pool in a fresh directory of this run; removed with its volumes afterwards."""
    made = []

    def make(label="pool"):
        name = unique_name(label)
        path = os.path.join(image_dir, name)
        result = run_module("pool", {"uri": qemu_uri, "name": name, "type": "dir", "target": {"path": path},
                                     "build": True, "state": "active"})
        assert result.changed and not result.failed, result
        made.append(name)
        return name, path

    yield make
    for name in made:
        run_module("pool", {"uri": qemu_uri, "name": name, "state": "absent", "delete": True, "force": True})


@pytest.fixture
def base_image(tmp_path):
    """A small qcow2 base image made with qemu-img (it need not boot)."""
    path = str(tmp_path / "base.qcow2")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", path, "64M"], check=True)
    return path


def test_dir_pool_defined_built_started_autostarted_and_removed(qemu_uri, image_dir, unique_name, libvirt_connection):
    conn = libvirt_connection(qemu_uri)
    name = unique_name("dir")
    path = os.path.join(image_dir, name)
    params = {"uri": qemu_uri, "name": name, "type": "dir", "build": True, "state": "active", "autostart": True,
              "target": {"path": path, "permissions": {"mode": "0750"}}}

    predicted = run_module("pool", params, check_mode=True, diff=True)
    assert predicted.changed and predicted["changes"] == ["pool", "build", "state", "autostart"], predicted
    assert predicted["diff"]["before"] == "" and "<path>%s</path>" % path in predicted["diff"]["after"]
    assert name not in conn.listDefinedStoragePools() + conn.listStoragePools() and not os.path.exists(path)

    created = run_module("pool", params, diff=True)
    assert created["changes"] == predicted["changes"] and not created.failed, created
    pool = conn.storagePoolLookupByName(name)
    assert pool.isActive() and pool.autostart() and pool.isPersistent()
    assert os.path.isdir(path) and oct(os.stat(path).st_mode & 0o777) == "0o750"
    info = created["pool"]
    assert (info["active"], info["autostart"], info["type"], info["path"]) == (True, True, "dir", path)
    assert info["capacity"] > 0 and info["available"] > 0 and info["allocation"] >= 0
    assert info["uuid"] == pool.UUIDString()

    for again in (run_module("pool", params), run_module("pool", params, check_mode=True)):
        assert not again.changed and again["changes"] == [], again

    stopped = run_module("pool", dict(params, state="inactive"))
    assert stopped["changes"] == ["state"] and not pool.isActive()
    # A changed definition (the permissions) of an inactive pool: written, applied at its next build or start.
    changed = run_module("pool", dict(params, state="inactive", target={"path": path, "permissions": {"mode": "0755"}}))
    assert changed["changes"] == ["target.permissions.mode"] and not changed["restart_required"], changed
    assert "<mode>0755</mode>" in pool.XMLDesc(0)

    removed = run_module("pool", {"uri": qemu_uri, "name": name, "state": "absent", "delete": True}, diff=True)
    assert removed["changes"] == ["storage", "pool"] and removed["diff"]["after"] == "", removed
    assert name not in conn.listDefinedStoragePools() and not os.path.exists(path)
    assert not run_module("pool", {"uri": qemu_uri, "name": name, "state": "absent"}).changed


def test_base_image_clones_copy_raw_volume_and_resize(qemu_uri, make_pool, base_image):
    pool, path = make_pool()
    base = {"uri": qemu_uri, "pool": pool, "name": "base.qcow2", "upload": base_image}
    predicted = run_module("volume", base, check_mode=True)
    assert predicted["changes"] == ["volume"] and predicted["volume"]["format"] == "qcow2", predicted
    uploaded = run_module("volume", base)
    assert uploaded["changes"] == ["volume"] and not uploaded.failed, uploaded
    assert (uploaded["volume"]["format"], uploaded["volume"]["capacity"]) == ("qcow2", 64 * 1024 ** 2)
    assert not run_module("volume", base).changed  # the content is never rewritten unless forced

    clones = {"uri": qemu_uri, "pool": pool, "volumes": [
        {"name": "web%d.qcow2" % index, "backing": {"volume": "base.qcow2"}} for index in range(3)] + [
        {"name": "copy.qcow2", "clone": {"volume": "base.qcow2"}},
        {"name": "data.img", "format": "raw", "capacity": "8MiB"}]}
    predicted = run_module("volume", clones, check_mode=True)
    made = run_module("volume", clones)
    assert not made.failed, made
    assert [r["changes"] for r in made["results"]] == [r["changes"] for r in predicted["results"]] == [["volume"]] * 5
    for index in range(3):
        chain = qemu_img_info(os.path.join(path, "web%d.qcow2" % index))
        expected = [os.path.join(path, "web%d.qcow2" % index), os.path.join(path, "base.qcow2")]
        assert [image["filename"] for image in chain] == expected
        assert chain[0]["format"] == "qcow2" and chain[0]["virtual-size"] == 64 * 1024 ** 2
    copy = qemu_img_info(os.path.join(path, "copy.qcow2"))
    assert len(copy) == 1 and copy[0]["format"] == "qcow2"  # a full copy: no backing
    assert qemu_img_info(os.path.join(path, "data.img"))[0]["format"] == "raw"
    for again in (run_module("volume", clones), run_module("volume", clones, check_mode=True)):
        assert not again.changed and all(r["changes"] == [] for r in again["results"]), again

    grow = {"uri": qemu_uri, "pool": pool, "name": "web0.qcow2", "backing": {"volume": "base.qcow2"},
            "capacity": "128MiB"}
    predicted = run_module("volume", grow, check_mode=True)
    grown = run_module("volume", grow)
    assert predicted["changes"] == grown["changes"] == ["capacity"], grown
    assert predicted["volume"]["capacity"] == grown["volume"]["capacity"] == 128 * 1024 ** 2
    assert qemu_img_info(os.path.join(path, "web0.qcow2"))[0]["virtual-size"] == 128 * 1024 ** 2
    assert not run_module("volume", grow).changed

    shrink = run_module("volume", dict(grow, capacity="64MiB"))
    assert shrink.failed and shrink["option"] == "capacity" and "never shrunk" in shrink["msg"], shrink
    assert qemu_img_info(os.path.join(path, "web0.qcow2"))[0]["virtual-size"] == 128 * 1024 ** 2
    other_format = run_module("volume", {"uri": qemu_uri, "pool": pool, "name": "data.img", "format": "qcow2"})
    assert other_format.failed and other_format["option"] == "format" and "cannot convert" in other_format["msg"]

    in_use = run_module("volume", {"uri": qemu_uri, "pool": pool, "name": "base.qcow2", "state": "absent"})
    assert in_use.failed and in_use["option"] == "force", in_use
    assert all("web%d.qcow2" % index in in_use["msg"] for index in range(3))
    assert os.path.exists(os.path.join(path, "base.qcow2"))

    # The clones go first, in one task; then the base is free and goes too.
    removed = run_module("volume", {"uri": qemu_uri, "pool": pool, "state": "absent", "volumes": [
        {"name": "web%d.qcow2" % index} for index in range(3)] + [{"name": "base.qcow2"}]}, diff=True)
    assert not removed.failed and all(r["changes"] == ["volume"] for r in removed["results"]), removed
    assert sorted(os.listdir(path)) == ["copy.qcow2", "data.img"]


def test_cloud_init_seed_read_back_rewritten_on_change(qemu_uri, make_pool):
    pool, path = make_pool()
    user_data = "#cloud-config\nusers:\n  - name: admin\n    lock_passwd: true\n"
    seed = {"uri": qemu_uri, "pool": pool, "name": "web1-cidata.iso",
            "cloud_init": {"user_data": user_data, "meta_data": {"instance-id": "web1", "local-hostname": "web1"}}}
    predicted = run_module("volume", seed, check_mode=True)
    made = run_module("volume", seed)
    assert predicted["changes"] == made["changes"] == ["volume"], made
    label, files = seed_contents(os.path.join(path, "web1-cidata.iso"))
    assert label == "cidata"
    assert files["user-data"] == user_data
    assert json.loads(files["meta-data"]) == {"instance-id": "web1", "local-hostname": "web1"}
    assert set(files) == {"user-data", "meta-data"}
    for again in (run_module("volume", seed), run_module("volume", seed, check_mode=True)):
        assert not again.changed, again

    seed["cloud_init"]["user_data"] = {"users": [{"name": "ops"}]}
    seed["cloud_init"]["network_config"] = "version: 2\nethernets: {eth0: {dhcp4: true}}\n"
    predicted = run_module("volume", seed, check_mode=True)
    rewritten = run_module("volume", seed)
    assert predicted["changes"] == rewritten["changes"] == ["cloud_init.network-config", "cloud_init.user-data"]
    assert all(d["after"].startswith("sha256:") for d in rewritten["differences"])  # no content in the result
    label, files = seed_contents(os.path.join(path, "web1-cidata.iso"))
    assert files["user-data"].startswith("#cloud-config\n") and "ops" in files["user-data"]
    assert files["network-config"] == seed["cloud_init"]["network_config"]
    assert not run_module("volume", seed).changed


def test_guest_on_a_clone_and_a_cloud_init_disk_started_then_removed_with_its_storage(
        qemu_uri, make_pool, base_image, unique_name, kvm_domain_type, libvirt_connection):
    conn = libvirt_connection(qemu_uri)
    pool, path = make_pool()
    guest = unique_name("vm")
    volumes = {"uri": qemu_uri, "pool": pool, "volumes": [
        {"name": "base.qcow2", "upload": base_image},
        {"name": guest + ".qcow2", "backing": {"volume": "base.qcow2"}},
        {"name": guest + "-cidata.iso", "cloud_init": {"meta_data": {"instance-id": guest}}}]}
    assert not run_module("volume", volumes).failed
    domain = {"uri": qemu_uri, "name": guest, "type": kvm_domain_type, "memory": "64MiB", "state": "running",
              "os": {"type": "hvm", "boot": ["hd"]},
              "disks": [{"volume": guest + ".qcow2", "pool": pool, "target": "vda", "bus": "virtio"},
                        {"volume": guest + "-cidata.iso", "pool": pool, "device": "cdrom", "target": "sda",
                         "bus": "sata", "readonly": True}]}
    missing = run_module("domain", dict(domain, disks=[{"volume": "nothing.qcow2", "pool": pool, "target": "vda"}]))
    assert missing.failed and missing["option"] == "disks[0].volume", missing
    assert "nothing.qcow2" in missing["msg"] and pool in missing["msg"] and guest not in conn.listDefinedDomains()

    started = run_module("domain", domain)
    assert started.changed and not started.failed, started
    xml = conn.lookupByName(guest).XMLDesc(0)
    assert "<source pool='%s' volume='%s.qcow2'" % (pool, guest) in xml and "type='qcow2'" in xml
    assert conn.lookupByName(guest).isActive()
    assert not run_module("domain", domain).changed

    busy = run_module("volume", {"uri": qemu_uri, "pool": pool, "name": guest + ".qcow2", "state": "absent"})
    assert busy.failed and "the guest %s (disk vda)" % guest in busy["msg"], busy
    base_busy = run_module("volume", {"uri": qemu_uri, "pool": pool, "name": "base.qcow2", "state": "absent"})
    assert base_busy.failed and guest + ".qcow2" in base_busy["msg"]

    predicted = run_module("domain", dict(domain, state="absent", remove_storage=True), check_mode=True)
    removed = run_module("domain", dict(domain, state="absent", remove_storage=True))
    expected = ["%s/%s.qcow2" % (pool, guest), "%s/%s-cidata.iso" % (pool, guest)]
    assert predicted["removed_storage"] == removed["removed_storage"] == expected, removed
    assert sorted(os.listdir(path)) == ["base.qcow2"]  # the base is kept
    assert guest not in conn.listDefinedDomains() + [d.name() for d in conn.listAllDomains()]


def test_fs_pool_on_a_loop_device(qemu_uri, image_dir, unique_name, libvirt_connection, tmp_path):
    """A filesystem pool: libvirt formats the (loop) device, mounts it on the target, and a second build never
    formats it again. Loop devices need root; the test says so and skips when there is none to be had."""
    backing_file = tmp_path / "disk.img"
    with open(backing_file, "wb") as stream:
        stream.truncate(64 * 1024 ** 2)
    attached = subprocess.run(["losetup", "--find", "--show", str(backing_file)], capture_output=True, text=True,
                              check=False)
    if attached.returncode != 0:
        pytest.skip("no loop device can be attached here (losetup: %s)" % attached.stderr.strip())
    device = attached.stdout.strip()
    conn = libvirt_connection(qemu_uri)
    name = unique_name("fs")
    mount = os.path.join(image_dir, name)
    params = {"uri": qemu_uri, "name": name, "type": "fs", "source": {"device": device, "format": "ext4"},
              "target": {"path": mount}, "build": True, "state": "active"}
    try:
        made = run_module("pool", params)
        assert made["changes"] == ["pool", "build", "state"] and not made.failed, made
        assert any(line.split()[1] == mount for line in open("/proc/mounts") if line.startswith(device))
        volume = run_module("volume", {"uri": qemu_uri, "pool": name, "name": "a.img", "capacity": "4MiB"})
        assert volume["changes"] == ["volume"] and os.path.exists(os.path.join(mount, "a.img"))
        assert not run_module("pool", params).changed
        # Defined again (after an undefine), the device is built again: it holds ext4 already, so nothing is lost.
        assert run_module("pool", {"uri": qemu_uri, "name": name, "state": "absent"}).changed
        again = run_module("pool", params)
        assert not again.failed and "build" in again["changes"], again
        assert os.path.exists(os.path.join(mount, "a.img"))
    finally:
        pool = conn.storagePoolLookupByName(name) if name in conn.listStoragePools() + conn.listDefinedStoragePools() \
            else None
        if pool is not None:
            if pool.isActive():
                pool.destroy()
            pool.undefine()
        subprocess.run(["losetup", "-d", device], check=False)
        shutil.rmtree(mount, ignore_errors=True)


def test_netfs_and_iscsi_pools_in_the_test_driver(test_driver_uri, unique_name, libvirt_connection):
    conn = libvirt_connection(test_driver_uri)
    nfs, iscsi = unique_name("nfs"), unique_name("iscsi")
    pools = {"uri": test_driver_uri, "state": "active", "pools": [
        {"name": nfs, "type": "netfs", "source": {"host": "nfs.example.test", "dir": "/export/images", "format": "nfs"},
         "target": {"path": "/mnt/" + nfs}},
        {"name": iscsi, "type": "iscsi", "source": {"host": "iscsi.example.test", "device": "iqn.2024-01.test:disk1"},
         "target": {"path": "/dev/disk/by-path"}}]}
    made = run_module("pool", pools)
    assert not made.failed and [r["changes"] for r in made["results"]] == [["pool", "state"]] * 2, made
    assert conn.storagePoolLookupByName(nfs).isActive() and conn.storagePoolLookupByName(iscsi).isActive()
    assert "<host name='nfs.example.test'/>" in conn.storagePoolLookupByName(nfs).XMLDesc(0)
    assert not run_module("pool", pools).changed
    # The default pool of the test driver is adopted as it is.
    assert not run_module("pool", {"uri": test_driver_uri, "name": "default-pool", "state": "active"}).changed
    missing_host = run_module("pool", {"uri": test_driver_uri, "name": unique_name("bad"), "type": "netfs",
                                       "target": {"path": "/mnt/x"}})
    assert missing_host.failed and missing_host["option"] == "source.host", missing_host
    removed = run_module("pool", dict(pools, state="absent"))
    assert not removed.failed and nfs not in conn.listStoragePools() + conn.listDefinedStoragePools()


def test_fifty_volumes_in_one_task(qemu_uri, make_pool):
    pool, path = make_pool()
    volumes = {"uri": qemu_uri, "pool": pool,
               "volumes": [{"name": "v%02d.img" % index, "capacity": "1MiB"} for index in range(50)]}
    made = run_module("volume", volumes)
    assert not made.failed and sum(r["changed"] for r in made["results"]) == 50
    assert len(os.listdir(path)) == 50
    assert not run_module("volume", volumes).changed
    removed = run_module("volume", dict(volumes, state="absent"))
    assert sum(r["changed"] for r in removed["results"]) == 50 and os.listdir(path) == []


def test_storage_changed_outside_libvirt(qemu_uri, make_pool, unique_name, libvirt_connection):
    """Faults: the pool's directory removed behind libvirt's back, a volume deleted by hand."""
    conn = libvirt_connection(qemu_uri)
    pool, path = make_pool()
    volume = {"uri": qemu_uri, "pool": pool, "name": "a.img", "capacity": "1MiB"}
    assert run_module("volume", volume).changed
    os.remove(os.path.join(path, "a.img"))
    recreated = run_module("volume", volume)
    assert recreated["changes"] == ["volume"] and os.path.exists(os.path.join(path, "a.img")), recreated

    shutil.rmtree(path)
    params = {"uri": qemu_uri, "name": pool, "type": "dir", "target": {"path": path}, "state": "active"}
    refused = run_module("pool", params)
    assert refused.failed and refused["option"] == "build" and path in refused["msg"], refused
    predicted = run_module("pool", dict(params, build=True), check_mode=True)
    rebuilt = run_module("pool", dict(params, build=True))
    assert predicted["changes"] == rebuilt["changes"] == ["build", "state"], rebuilt
    assert os.path.isdir(path) and conn.storagePoolLookupByName(pool).isActive()
    assert not run_module("pool", dict(params, build=True)).changed
    assert run_module("volume", volume)["changes"] == ["volume"]  # the volume went with the directory

    gone = run_module("volume", {"uri": qemu_uri, "pool": unique_name("nopool"), "name": "x.img", "capacity": 1})
    assert gone.failed and gone["option"] == "pool" and "does not exist" in gone["msg"]
    libvirt = libvirt_binding()
    conn.storagePoolLookupByName(pool).destroy()
    inactive = run_module("volume", volume)
    assert inactive.failed and "not active" in inactive["msg"], inactive
    assert isinstance(libvirt.VIR_ERR_NO_STORAGE_POOL, int)


def test_provision_and_decommission_playbooks_order_the_storage(
        tmp_path, qemu_uri, image_dir, base_image, kvm_domain_type, run_prefix, libvirt_connection):
    """provision.yml makes the pool, then the volumes, then the guest on them; a second run changes nothing;
    decommission.yml with remove_storage removes the guest, its volumes and the pool's directory, in reverse."""
    import yaml  # pylint: disable=import-outside-toplevel
    from tests.support.harness import REPO, run_playbook  # pylint: disable=import-outside-toplevel

    conn = libvirt_connection(qemu_uri)
    pool, guest = "%s-fleetpool" % run_prefix, "%s-fleetvm" % run_prefix
    path = os.path.join(image_dir, pool)
    host_vars = {
        "libvirt_uri": qemu_uri, "libvirt_host_install": False,
        "libvirt_pools": [{"name": pool, "type": "dir", "target": {"path": path}, "build": True, "state": "active"}],
        "libvirt_volumes": [
            {"pool": pool, "name": "base.qcow2", "upload": base_image},
            {"pool": pool, "name": guest + ".qcow2", "backing": {"volume": "base.qcow2"}},
            {"pool": pool, "name": guest + "-cidata.iso", "cloud_init": {"user_data": {"users": [{"name": "ops"}]}}}],
        "libvirt_domains": [{"name": guest, "type": kvm_domain_type, "memory": "64MiB", "state": "present",
                             "disks": [{"volume": guest + ".qcow2", "pool": pool, "target": "vda"},
                                       {"volume": guest + "-cidata.iso", "pool": pool, "device": "cdrom",
                                        "target": "sda", "bus": "sata", "readonly": True}]}],
    }
    (tmp_path / "host_vars").mkdir()
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump({"all": {"children": {"hypervisors": {"hosts": {"kvmhost": None},
                                        "vars": {"ansible_connection": "local",
                                                 "ansible_python_interpreter": os.sys.executable}}}}}))
    (tmp_path / "host_vars" / "kvmhost.yml").write_text(yaml.safe_dump(host_vars))
    try:
        # On a host without the pool, check mode predicts every volume and the guest (warning that they are
        # only predicted) instead of failing where a real run succeeds.
        predicted = run_playbook(REPO / "playbooks" / "provision.yml", inventory=tmp_path, check=True)
        assert predicted.returncode == 0, predicted.stdout[-5000:]
        volumes = predicted.task("Converge the host's storage volumes", "kvmhost")
        assert [item["changes"] for item in volumes["results"]] == [["volume"]] * 3, volumes
        assert any("does not exist" in warning for warning in volumes["results"][0].get("warnings", [])), volumes
        assert pool not in conn.listDefinedStoragePools() + conn.listStoragePools()
        first = run_playbook(REPO / "playbooks" / "provision.yml", inventory=tmp_path)
        assert first.returncode == 0, first.stdout[-5000:]
        summary = first.task("Summary of kvmhost", "kvmhost")["msg"]
        assert summary["pools_active"] == [pool] and len(summary["volumes_changed"]) == 3, summary
        assert "<source pool='%s' volume='%s.qcow2'/>" % (pool, guest) in conn.lookupByName(guest).XMLDesc(0)
        second = run_playbook(REPO / "playbooks" / "provision.yml", inventory=tmp_path)
        assert second.returncode == 0 and second.changed_tasks() == [], second.stdout[-5000:]
    finally:
        removed = run_playbook(REPO / "playbooks" / "decommission.yml", inventory=tmp_path,
                               extra_vars={"remove_storage": True})
    assert removed.returncode == 0, removed.stdout[-5000:]
    assert guest not in conn.listDefinedDomains() and pool not in conn.listDefinedStoragePools() + conn.listStoragePools()
    assert not os.path.exists(path)


def test_a_failure_after_a_write_says_what_was_written(qemu_uri, make_pool, image_dir, unique_name,
                                                       libvirt_connection):
    """The shared converger's rule for every kind: a task that fails after it wrote something reports
    ``changed`` and what it wrote; one that took its write back (a new pool that cannot start, undefined
    again) reports no change."""
    conn = libvirt_connection(qemu_uri)
    name = unique_name("nodir")
    missing = os.path.join(image_dir, name, "not-made")
    new = run_module("pool", {"uri": qemu_uri, "name": name, "type": "dir", "target": {"path": missing},
                              "state": "active"})
    assert new.failed and not new.get("changed") and "changes" not in new, new
    assert "starting the storage pool %s failed" % name in new["msg"]
    assert name not in conn.listDefinedStoragePools() + conn.listStoragePools()

    name, path = make_pool("moved")
    assert run_module("pool", {"uri": qemu_uri, "name": name, "state": "inactive"})["changes"] == ["state"]
    moved = run_module("pool", {"uri": qemu_uri, "name": name, "type": "dir", "target": {"path": missing},
                                "state": "active"})
    assert moved.failed and moved["changed"] is True and moved["changes"] == ["target.path"], moved
    pool = conn.storagePoolLookupByName(name)
    assert "<path>%s</path>" % missing in pool.XMLDesc(0) and not pool.isActive()
    # Nothing written this time: the same failure again is no change.
    again = run_module("pool", {"uri": qemu_uri, "name": name, "type": "dir", "target": {"path": missing},
                                "state": "active"})
    assert again.failed and not again.get("changed"), again
    run_module("pool", {"uri": qemu_uri, "name": name, "type": "dir", "target": {"path": path}})

"""README: `python3 tests/data/virt-install/generate.py [FILE.xml ...]` as root on a host with libvirtd and
virt-install (Debian's virtinst) rewrites the documents of this directory (all of them, or the ones named).

Each document is what `virt-install --connect qemu:///system --dry-run --print-xml` prints for one row of
DOCUMENTS, so it carries the defaults virt-install picks from this host's capabilities and from libosinfo.
The values that must differ per test run are placeholders, substituted by
tests/integration/test_client_documents.py:

    @NAME@    the guest's name            @UUID@          its uuid
    @IMAGES@  directory of the disk images, ISOs and shared folders
    @NET0@, @NET1@    libvirt networks    @MAC0@ .. @MAC2@    MAC addresses    @PORT0@    a TCP port on 127.0.0.1

virt-install makes a storage pool for a disk's directory even with --dry-run; virt_install() removes the pool
it made for the images directory, so a run leaves nothing behind.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

URI = "qemu:///system"
HERE = os.path.dirname(os.path.abspath(__file__))

DISK = "path={images}/%s.qcow2,size=1"
ISO = "{images}/install.iso"

# file name -> the virt-install arguments after
#   --connect qemu:///system --dry-run --print-xml --noautoconsole --name {name} --uuid {uuid}
DOCUMENTS = {
    # machine types: the q35 and pc aliases as given, and the versioned i440fx one virt-install picks itself
    "q35-linux.xml": [
        "--machine", "q35", "--osinfo", "debian11", "--memory", "256", "--vcpus", "1", "--import",
        "--disk", DISK % "root", "--network", "network={net0},mac={mac0}"],
    "pc-alias.xml": [
        "--machine", "pc", "--osinfo", "linux2020", "--memory", "256", "--vcpus", "1", "--import",
        "--disk", DISK % "root", "--network", "network={net0},mac={mac0}"],
    "i440fx-default.xml": [
        "--osinfo", "generic", "--memory", "256", "--vcpus", "1", "--import",
        "--disk", DISK % "root", "--network", "network={net0},mac={mac0}"],
    # UEFI firmware (auto-selected by libvirt from the firmware descriptors)
    "uefi-linux.xml": [
        "--boot", "uefi", "--machine", "q35", "--osinfo", "debian11", "--memory", "256", "--vcpus", "1",
        "--import", "--disk", DISK % "root", "--network", "network={net0},mac={mac0}"],
    # libosinfo defaults of Windows guests (Hyper-V enlightenments, localtime clock; win11: UEFI secure boot, TPM)
    "win10.xml": [
        "--osinfo", "win10", "--memory", "256", "--vcpus", "2", "--import",
        "--disk", DISK % "root", "--network", "network={net0},mac={mac0}"],
    "win11.xml": [
        "--osinfo", "win11", "--memory", "256", "--vcpus", "2", "--import",
        "--disk", DISK % "root", "--network", "network={net0},mac={mac0}"],
    # secure boot with enrolled keys needs SMM (no TPM: this host's libvirt has no swtpm, so it refuses one)
    "win11-secure-boot.xml": [
        "--osinfo", "win11", "--memory", "256", "--vcpus", "2", "--import",
        "--boot", "uefi,firmware.feature0.name=secure-boot,firmware.feature0.enabled=yes,"
                  "firmware.feature1.name=enrolled-keys,firmware.feature1.enabled=yes",
        "--features", "smm.state=on",
        "--disk", DISK % "root", "--network", "network={net0},mac={mac0}"],
    # libosinfo defaults of a recent Linux guest installed from a CD-ROM. virt-install prints two documents
    # for it: the one it boots the installer with (step 1), and the one it leaves defined (step 2, an empty
    # CD-ROM drive, boot from disk). A later --print-xml wins over the one every command has.
    "linux-cdrom-install.xml": [
        "--osinfo", "fedora37", "--memory", "256", "--vcpus", "2", "--cdrom", ISO,
        "--disk", DISK % "root", "--network", "network={net0},mac={mac0}", "--print-xml", "1"],
    "linux-cdrom-installed.xml": [
        "--osinfo", "fedora37", "--memory", "256", "--vcpus", "2", "--cdrom", ISO,
        "--disk", DISK % "root", "--network", "network={net0},mac={mac0}", "--print-xml", "2"],
    # a guest-agent channel asked for explicitly, on an OS libosinfo gives no agent by default
    "guest-agent.xml": [
        "--osinfo", "generic", "--memory", "256", "--vcpus", "1", "--import",
        "--disk", DISK % "root", "--network", "network={net0},mac={mac0}",
        "--channel", "unix,target.type=virtio,name=org.qemu.guest_agent.0"],
    "rng-balloon-watchdog.xml": [
        "--osinfo", "generic", "--memory", "256", "--vcpus", "1", "--import",
        "--disk", DISK % "root", "--network", "network={net0},mac={mac0}",
        "--rng", "/dev/urandom", "--memballoon", "virtio", "--watchdog", "i6300esb,action=reset"],
    "spice-qxl-sound.xml": [
        "--osinfo", "generic", "--memory", "256", "--vcpus", "1", "--import",
        "--disk", DISK % "root", "--network", "network={net0},mac={mac0}",
        "--graphics", "spice", "--video", "qxl", "--sound", "ich6", "--channel", "spicevmc"],
    "vnc-listen.xml": [
        "--osinfo", "generic", "--memory", "256", "--vcpus", "1", "--import",
        "--disk", DISK % "root", "--network", "network={net0},mac={mac0}",
        "--graphics", "vnc,listen=127.0.0.1", "--video", "vga"],
    "several-nics.xml": [
        "--machine", "q35", "--osinfo", "debian11", "--memory", "256", "--vcpus", "1", "--import",
        "--disk", DISK % "root",
        "--network", "network={net0},mac={mac0},model=virtio",
        "--network", "network={net1},mac={mac1},model=e1000e",
        "--network", "user,mac={mac2},model=rtl8139"],
    "scsi-sata-disks.xml": [
        "--machine", "q35", "--osinfo", "debian11", "--memory", "256", "--vcpus", "1", "--import",
        "--controller", "scsi,model=virtio-scsi",
        "--disk", DISK % "root" + ",bus=scsi", "--disk", DISK % "data" + ",bus=sata",
        "--disk", "path={images}/raw.img,size=1,format=raw,bus=virtio,cache=none",
        "--disk", "path=%s,device=cdrom,bus=sata" % ISO,
        "--network", "network={net0},mac={mac0}"],
    "filesystem-9p.xml": [
        "--osinfo", "generic", "--memory", "256", "--vcpus", "1", "--import",
        "--disk", DISK % "root", "--network", "network={net0},mac={mac0}",
        "--filesystem", "source={images}/share,target=hostshare"],
    "numa-cells.xml": [
        "--machine", "q35", "--osinfo", "debian11", "--memory", "256", "--vcpus", "2",
        "--cpu", "cell0.cpus=0,cell0.memory=131072,cell1.cpus=1,cell1.memory=131072", "--import",
        "--disk", DISK % "root", "--network", "network={net0},mac={mac0}"],
    "tcp-serial.xml": [
        "--osinfo", "generic", "--memory", "256", "--vcpus", "1", "--import",
        "--disk", DISK % "root", "--network", "network={net0},mac={mac0}",
        "--serial", "tcp,host=127.0.0.1:{port0},mode=bind,protocol.type=telnet"],
    # maxmemory is <memory> with <currentMemory> (the balloon target) below it; maxvcpus is <vcpu current=...>
    "maxmemory-maxvcpus.xml": [
        "--machine", "q35", "--osinfo", "debian11", "--memory", "256,maxmemory=512",
        "--vcpus", "1,maxvcpus=4", "--import",
        "--disk", DISK % "root", "--network", "network={net0},mac={mac0}"],
    # memory hotplug: <maxMemory slots=...> needs a NUMA cell
    "memory-hotplug.xml": [
        "--machine", "q35", "--osinfo", "debian11", "--memory", "256,hotplugmemorymax=1024,hotplugmemoryslots=2",
        "--vcpus", "2", "--cpu", "cell0.cpus=0-1,cell0.memory=262144", "--import",
        "--disk", DISK % "root", "--network", "network={net0},mac={mac0}"],
    "i686-qemu.xml": [
        "--virt-type", "qemu", "--arch", "i686", "--machine", "pc", "--osinfo", "generic", "--memory", "256",
        "--vcpus", "1", "--import", "--disk", DISK % "root", "--network", "network={net0},mac={mac0}"],
}

# Stand-ins used while generating, turned into placeholders in the stored documents. Each is a string
# virt-install prints back unchanged and that occurs nowhere else in its output.
GENERATION_VALUES = {
    "name": "corpusguestname",
    "uuid": "c0c0c0c0-0000-4000-8000-00000000c0c0",
    "net0": "corpusnetzero",
    "net1": "corpusnetone",
    "mac0": "52:54:00:c0:c0:00",
    "mac1": "52:54:00:c0:c0:01",
    "mac2": "52:54:00:c0:c0:02",
    "port0": "54999",
}
PLACEHOLDERS = {key: "@%s@" % key.upper() for key in list(GENERATION_VALUES) + ["images"]}


def command(filename, values):
    """The full virt-install command line of ``filename`` with ``values`` (name, uuid, images, net0 ...)."""
    base = ["virt-install", "--connect", URI, "--dry-run", "--print-xml", "--noautoconsole",
            "--name", "{name}", "--uuid", "{uuid}"]
    return [argument.format(**values) for argument in base + DOCUMENTS[filename]]


def _pools_for(directory):
    """Names of the libvirt storage pools whose target is ``directory``."""
    listed = subprocess.run(["virsh", "-c", URI, "pool-list", "--all", "--name"], capture_output=True, text=True,
                            check=True).stdout.split()
    names = []
    for name in listed:
        xml = subprocess.run(["virsh", "-c", URI, "pool-dumpxml", name], capture_output=True, text=True,
                             check=False).stdout
        if "<path>%s</path>" % os.path.normpath(directory) in xml:
            names.append(name)
    return names


def prepare_images(directory):
    """What virt-install needs to exist in the images directory: the install ISO and the shared folder."""
    os.makedirs(os.path.join(directory, "share"), exist_ok=True)
    with open(os.path.join(directory, "install.iso"), "ab"):
        pass


def virt_install(filename, values):
    """Run virt-install for ``filename`` and return the document it prints. The storage pool virt-install
    makes for ``values['images']`` (it does so even with --dry-run) is removed again."""
    existing = set(_pools_for(values["images"]))
    try:
        process = subprocess.run(command(filename, values), capture_output=True, text=True, check=False)
    finally:
        for pool in set(_pools_for(values["images"])) - existing:
            subprocess.run(["virsh", "-c", URI, "pool-destroy", pool], capture_output=True, check=False)
            subprocess.run(["virsh", "-c", URI, "pool-undefine", pool], capture_output=True, check=False)
    if process.returncode != 0:
        raise RuntimeError("virt-install for %s failed (rc %d): %s"
                           % (filename, process.returncode, process.stderr.strip()))
    return process.stdout


def with_placeholders(document, values):
    for key, value in values.items():
        document = document.replace(value, PLACEHOLDERS[key])
    return document


def main(filenames):
    unknown = [name for name in filenames if name not in DOCUMENTS]
    if unknown:
        raise SystemExit("unknown documents: %s (known: %s)" % (", ".join(unknown), ", ".join(sorted(DOCUMENTS))))
    images = tempfile.mkdtemp(prefix="virt-install-corpus-", dir="/var/lib/libvirt/images")
    try:
        prepare_images(images)
        values = dict(GENERATION_VALUES, images=images)
        for filename in filenames or sorted(DOCUMENTS):
            document = with_placeholders(virt_install(filename, values), values)
            with open(os.path.join(HERE, filename), "w", encoding="utf-8") as stream:
                stream.write(document)
            sys.stdout.write("wrote %s\n" % filename)
    finally:
        shutil.rmtree(images, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])

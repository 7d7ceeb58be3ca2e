"""Secrets stay secret and names stay data: graphics passwords never reach Ansible's output, the diff, the
returned XML or the invocation a module logs on the host, whichever way they are given (the structured
option, a bulk item, inside ``xml``); names and paths with shell and XML metacharacters reach libvirt, and the
commands xenpv_drivers runs on a host without Python, as exactly those characters; an option value can never
become a command-line option of a program."""
from __future__ import annotations

import json
import os
import socket
import sys
import textwrap
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from lxml import etree

from tests.support import rpmrepo
from tests.support.harness import REPO, run_module, run_playbook

pytestmark = pytest.mark.integration

SECURE_XML = 1  # VIR_DOMAIN_XML_SECURE: libvirt includes passwords only when asked for them


def guest(name, **extra):
    declared = {"name": name, "type": "test", "memory": "64MiB", "os": {"type": "hvm"}}
    declared.update(extra)
    return declared


def stored_password(connection, name):
    xml = connection.lookupByName(name).XMLDesc(SECURE_XML | 2)  # 2: VIR_DOMAIN_XML_INACTIVE
    return etree.fromstring(xml).find("devices/graphics").get("passwd")


@pytest.fixture
def host_log():
    """The host's syslog socket, bound here to read what modules log (this machine runs no syslog daemon,
    so nothing else listens on /dev/log)."""
    if os.path.exists("/dev/log"):
        pytest.skip("a real syslog daemon owns /dev/log on this machine; the module's log is read elsewhere")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind("/dev/log")
    listener.settimeout(0.2)

    def read():
        messages = []
        while True:
            try:
                messages.append(listener.recv(65536).decode("utf-8", "replace"))
            except socket.timeout:
                return messages

    try:
        yield read
    finally:
        listener.close()
        os.unlink("/dev/log")


def test_passwords_are_masked_in_results_diffs_and_the_host_log(test_driver_uri, unique_name, libvirt_connection,
                                                                host_log):
    connection = libvirt_connection(test_driver_uri)
    single, bulk, from_xml = unique_name("pw"), unique_name("pw"), unique_name("pw")
    secrets = {single: "Sgl9kq3x", bulk: "Blk7mw2z", from_xml: "Xm&l5'q<"}
    document = ("<domain type='test'><name>%s</name><memory>65536</memory><os><type>hvm</type></os><devices>"
                "<graphics type='vnc' port='-1' passwd='Xm&amp;l5&apos;q&lt;'/></devices></domain>" % from_xml)
    forms = [
        ("single", {"uri": test_driver_uri, **guest(single, graphics=[{"type": "vnc", "password": secrets[single]}])}),
        ("bulk", {"uri": test_driver_uri,
                  "domains": [guest(bulk, graphics=[{"type": "vnc", "password": secrets[bulk]}])]}),
        ("xml", {"uri": test_driver_uri, "name": from_xml, "xml": document}),
    ]
    host_log()  # drop whatever was logged before
    for label, args in forms:
        for check_mode in (True, False):
            result = run_module("domain", args, check_mode=check_mode, diff=True)
            assert not result.failed and result.changed, (label, result)
            output = json.dumps(result)
            for secret in secrets.values():
                assert secret not in output and "Xm&amp;l5" not in output, (label, check_mode)
    # Other processes on the host may log too: keep this test's invocations.
    logged = [m for m in host_log() if "Invoked with" in m and any(name in m for name in secrets)]
    assert len(logged) == 6  # the log was really read
    for secret in secrets.values():
        assert not [m for m in logged if secret in m or "Xm&amp;l5" in m]
    for name, secret in secrets.items():
        assert stored_password(connection, name) == secret  # libvirt got the real password

    # Changing only the password is a change, reported masked, and the returned XML stays masked.
    changed = run_module("domain", {"uri": test_driver_uri,
                                    **guest(single, graphics=[{"type": "vnc", "password": "N3wpass1"}])}, diff=True)
    assert changed.changed and changed["changes"] == ["graphics[vnc].password"]
    assert changed["differences"] == [{"field": "graphics[vnc].password", "before": "********",
                                       "after": "********"}]
    assert "passwd=\"********\"" in changed["domain"]["xml"]
    assert "N3wpass1" not in json.dumps(changed) and "Sgl9kq3x" not in json.dumps(changed)
    assert stored_password(connection, single) == "N3wpass1"
    assert not run_module("domain", {"uri": test_driver_uri,
                                     **guest(single, graphics=[{"type": "vnc", "password": "N3wpass1"}])}).changed


def test_passwords_stay_out_of_a_verbose_playbook_run(test_driver_uri, unique_name, tmp_path):
    """What an operator sees at -vvv with --diff, the failure of a refused task included."""
    name = unique_name("pw")
    playbook = tmp_path / "secret.yml"
    playbook.write_text(textwrap.dedent("""\
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: Bulk guest with a console password
              virt.libvirt.domain:
                uri: %(uri)s
                domains:
                  - {name: %(name)s, type: test, memory: 64MiB, os: {type: hvm},
                     graphics: [{type: vnc, password: Vb5zq8Lm}]}
            - name: A refused document that carries a password
              virt.libvirt.domain:
                uri: %(uri)s
                name: %(name)s
                xml: "<domain type='test'><name>%(name)s</name><memory>12XB</memory><devices><graphics type='vnc' passwd='Rf4pq7Wn'/></devices></domain>"
              ignore_errors: true
        """ % {"uri": test_driver_uri, "name": name}))
    run = run_playbook(playbook, diff=True, args=["-vvv"])
    assert run.returncode == 0, run.stdout[-3000:]
    refused = [r for r in run.records if r["task"] == "A refused document that carries a password"]
    assert [r["status"] for r in refused] == ["failed"] and "memory" in refused[0]["result"]["msg"]
    seen = run.stdout + run.stderr + json.dumps(run.records)
    assert "Vb5zq8Lm" not in seen and "Rf4pq7Wn" not in seen
    assert "Bulk guest with a console password" in run.stdout


def test_names_and_paths_reach_libvirt_as_data(test_driver_uri, unique_name, libvirt_connection, tmp_path):
    """Shell and XML metacharacters in a name and a path are escaped by the XML model: libvirt stores
    exactly those characters and nothing is run."""
    marker = tmp_path / "ran"
    name = unique_name("q") + "'\"<&>$(id);`id`|x"
    image = "/var/lib/libvirt/images/a b'\"<&>$(touch %s).img" % marker
    args = {"uri": test_driver_uri, **guest(name, disks=[{"type": "file", "source": image, "target": "hda"}],
                                            interfaces=[{"type": "bridge", "bridge": "br'<&>"}])}
    created = run_module("domain", args)
    assert not created.failed and created.changed, created
    domain = libvirt_connection(test_driver_uri).lookupByName(name)
    assert domain.name() == name
    stored = etree.fromstring(domain.XMLDesc(2))
    assert stored.find("devices/disk/source").get("file") == image
    assert stored.find("devices/interface/source").get("bridge") == "br'<&>"
    assert not run_module("domain", args).changed
    assert not marker.exists()
    removed = run_module("domain", {"uri": test_driver_uri, "name": name, "state": "absent"})
    assert removed.changed and not marker.exists()


def test_a_package_name_cannot_become_an_rpm_option(tmp_path):
    """rpm --pipe runs a shell command: a mapped package name starting with '-' is refused before rpm runs."""
    release = tmp_path / "redhat-release"
    release.write_text("Red Hat Enterprise Linux Server release 5.4 (Tikanga)\n")
    refused = run_module("xenpv_drivers", {"release_file": str(release), "uri": "test:///default",
                                           "package_names": {"xenpv-win-32bit": "--pipe"}})
    assert refused.failed and "package_names.xenpv-win-32bit" in refused["msg"], refused
    assert "not starting with '-'" in refused["msg"] and "Traceback" not in refused["_stderr"]


def test_names_and_paths_reach_a_host_without_python_as_data(test_driver_uri, unique_name, libvirt_connection,
                                                             tmp_path, repo):
    """On a host that cannot run modules, xenpv_drivers reads the host with commands (head, test, rpm, virsh):
    a release file, an RPM root and a guest name full of shell metacharacters reach them as exactly those
    characters - the report is the module's on the same facts - and nothing they spell is run."""
    marker = unique_name("ran")
    spelled = "a b'\"$(touch %s);`touch %s`|x&y>z" % (marker, marker)
    directory = tmp_path / ("dir " + spelled)
    directory.mkdir()
    release = directory / ("release " + spelled)
    release.write_text("Red Hat Enterprise Linux Server release 5.4 (Tikanga)\n")
    root = rpmrepo.make_install_root(str(directory), repo)
    rpmrepo.rpm_install(root, repo, "xenpv-win-32bit")
    name = unique_name("q") + "'\"<&>" + spelled
    connection = libvirt_connection(test_driver_uri)
    domain = connection.defineXML(
        "<domain type='xen'><name>%s</name><memory>524288</memory><os><type arch='i686'>hvm</type></os><devices>"
        "<disk type='file' device='disk'><source file='/i.img'/><target dev='hda' bus='ide'/></disk></devices>"
        "</domain>" % escape(name, {"'": "&apos;", '"': "&quot;"}))
    try:
        args = {"uri": test_driver_uri, "release_file": str(release), "installroot": root,
                "guests": [{"name": name, "os": "xp-sp3"}]}
        inventory = tmp_path / "inventory.json"
        inventory.write_text(json.dumps({"all": {"hosts": {
            "python3": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
            "nopython": {"ansible_connection": "local", "ansible_python_interpreter": "/nonexistent/bin/python"}}}}))
        playbook = tmp_path / "metacharacters.json"
        playbook.write_text(json.dumps([{"hosts": "all", "gather_facts": False,
                                         "tasks": [{"name": "check", "virt.libvirt.xenpv_drivers": args}]}]))
        run = run_playbook(playbook, inventory=str(inventory))
        assert run.returncode == 0, run.stdout[-3000:]
        results = {r["host"]: r["result"] for r in run.records if r["task"] == "check"}
        assert results["nopython"]["gather"] == "raw" and results["python3"]["gather"] == "module"
        found = results["nopython"]
        assert found["host"]["version"] == "5.4" and found["installed"] == ["xenpv-win-32bit"]
        assert found["media"]["xenpv-win-32bit"] == root + "/usr/share/xenpv-win/xenpv-win-32bit.iso"
        assert found["guests"][0]["name"] == name and found["guests"][0]["defined"] is True
        assert found["guests"][0]["system_disk"]["target"] == "hda" and found["supported"], found["problems"]
        for key in ("host", "installed", "media", "guests", "problems", "packages"):
            assert results["nopython"][key] == results["python3"][key], key
    finally:
        domain.undefine()
    for place in (REPO, Path.home(), tmp_path, directory, Path("/")):
        assert not (place / marker).exists(), place


def test_refused_arguments_do_not_echo_passwords(test_driver_uri, unique_name):
    """AnsibleModule refuses a bad option before the module runs, echoing every argument: the console
    password inside ``xml`` and in a bulk item is masked there too."""
    name = unique_name("pw")
    document = ("<domain type='test'><name>%s</name><memory>65536</memory><devices>"
                "<graphics type='vnc' passwd='Rfx8pq2m'/></devices></domain>" % name)
    for args in ({"uri": test_driver_uri, "name": name, "xml": document, "vcpu": "many"},
                 {"uri": test_driver_uri, "state": "sometimes",
                  "domains": [guest(name, graphics=[{"type": "vnc", "password": "Rfx8pq2m"}])]}):
        refused = run_module("domain", args)
        assert refused.failed and ("vcpu" in refused["msg"] or "state" in refused["msg"]), refused
        assert "Rfx8pq2m" not in json.dumps(refused)


@pytest.mark.parametrize("module, extra", [
    ("domain", {"name": "vlt-none", "state": "absent"}),
    ("network", {"name": "vlt-none", "state": "absent"}),
    ("capabilities_facts", {}),
])
def test_a_password_in_the_uri_is_masked(module, extra):
    """A URI can carry a password (esx://root:secret@host/); a failed connection quotes the URI. Port 1 on
    loopback refuses at once, so nothing leaves this machine."""
    uri = "qemu+tcp://admin:Ur1s3cret@127.0.0.1:1/system"
    refused = run_module(module, dict(extra, uri=uri))
    assert refused.failed and refused.get("option") == "uri", refused
    assert "127.0.0.1" in refused["msg"] and "Ur1s3cret" not in json.dumps(refused)

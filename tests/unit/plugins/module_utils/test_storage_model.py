"""The storage models and declarations without a daemon: sizes in bytes through the memory size codec, octal
modes, unknown XML kept, a user's document laid over a definition, every input error named, cloud-init images
read back as written."""
from __future__ import annotations

import pytest

from ansible_collections.virt.libvirt.plugins.module_utils import _xmlmodel as xm
from ansible_collections.virt.libvirt.plugins.module_utils._cloud_init import build_cloud_init_image, read_cloud_init_image, cloud_init_files
from ansible_collections.virt.libvirt.plugins.module_utils._diff import DifferenceTracker
from ansible_collections.virt.libvirt.plugins.module_utils._errors import InputError, ModelError
from ansible_collections.virt.libvirt.plugins.module_utils._pool import DeclaredPool
from ansible_collections.virt.libvirt.plugins.module_utils._storage_model import MODE, SIZE, Pool, Volume
from ansible_collections.virt.libvirt.plugins.module_utils._volume import DeclaredVolume

POOL_XML = """<pool type='netfs'>
  <name>shared</name>
  <uuid>5a7b0f4e-4a3b-4d1c-9d2e-1f2a3b4c5d6e</uuid>
  <capacity unit='bytes'>1000</capacity>
  <allocation unit='bytes'>10</allocation>
  <available unit='bytes'>990</available>
  <source>
    <host name='nfs.example.test' port='2049'/>
    <dir path='/export'/>
    <format type='nfs'/>
    <protocol ver='4'/>
  </source>
  <target>
    <path>/mnt/shared</path>
    <permissions><mode>0755</mode><owner>107</owner><group>107</group></permissions>
  </target>
</pool>"""


@pytest.mark.parametrize("given, expected", [
    ("10GiB", 10 * 1024 ** 3), ("512MiB", 512 * 1024 ** 2), ("1000MB", 10 ** 9), (1048576, 1048576), ("0", 0),
    ("7bytes", 7),  # written without a space, as every size option (a space is refused)
])
def test_storage_sizes_are_bytes_with_the_units_of_memory(given, expected):
    assert SIZE.normalize(given, "capacity") == expected


@pytest.mark.parametrize("given", ["12XB", "1.5GiB", -1, True, [1], "99999999999EiB"])
def test_storage_sizes_refused_name_the_option(given):
    with pytest.raises(ModelError, match="^capacity: "):
        SIZE.normalize(given, "capacity")


def test_memory_sizes_are_still_kib():
    assert xm.MEMORY.normalize("512MiB", "memory") == 512 * 1024
    assert xm.MEMORY.normalize(65536, "memory") == 65536


@pytest.mark.parametrize("given, expected", [("0755", 0o755), ("755", 0o755), (0o711, 0o711), ("0o600", 0o600)])
def test_modes_are_octal(given, expected):
    assert MODE.normalize(given, "mode") == expected


@pytest.mark.parametrize("given", ["0999", "rwx", "77777", True, 1.5])
def test_bad_modes_are_refused(given):
    with pytest.raises(ModelError, match="^mode: "):
        MODE.normalize(given, "mode")


def test_pool_fields_read_and_unknown_elements_kept():
    pool = Pool.from_user_xml(POOL_XML)
    assert (pool.type, pool.source_host, pool.source_port, pool.source_dir, pool.source_format) == (
        "netfs", "nfs.example.test", 2049, "/export", "nfs")
    assert (pool.target_path, pool.target_mode, pool.target_owner) == ("/mnt/shared", 0o755, 107)
    assert pool.element.find("capacity") is None  # the sizes a dump carries are state, not configuration
    pool.target_mode = 0o700
    rendered = pool.to_xml()
    assert "<mode>0700</mode>" in rendered and '<protocol ver="4"/>' in rendered


def test_a_document_laid_over_a_definition_adds_only_what_the_definition_lacks():
    stored = Pool.from_xml(POOL_XML).without_runtime()
    base = Pool.from_user_xml(POOL_XML.replace("<protocol ver='4'/>", "<protocol ver='3'/><auth type='x'/>"))
    tracker = DifferenceTracker()
    xm.merge_unmodelled(stored, base, tracker)
    assert tracker.fields == ["source.protocol", "source.auth"]
    assert '<protocol ver="3"/>' in stored.to_xml() and stored.source_host == "nfs.example.test"
    again = DifferenceTracker()
    xm.merge_unmodelled(stored, base, again)
    assert not again.changed


def test_volume_fields():
    volume = Volume.from_user_xml("<volume type='file'><name>a.qcow2</name><key>/x/a.qcow2</key>"
                                  "<capacity unit='G'>2</capacity><target><format type='qcow2'/></target>"
                                  "<backingStore><path>/x/base.qcow2</path><format type='raw'/></backingStore></volume>")
    assert (volume.capacity, volume.format, volume.backing_path, volume.backing_format) == (
        2 * 1024 ** 3, "qcow2", "/x/base.qcow2", "raw")
    assert volume.element.find("key") is None
    assert volume.describe() == "qcow2 2 GiB backed by /x/base.qcow2"


@pytest.mark.parametrize("params, option, fragment", [
    ({"name": "a"}, "pool", "is required"),
    ({"name": "a/b", "pool": "p"}, "name", "'/'"),
    ({"name": "a", "pool": "p", "capacity": "lots"}, "capacity", "not a size"),
    ({"name": "a", "pool": "p", "backing": {"volume": "b"}, "clone": {"volume": "c"}}, "clone", "backing"),
    ({"name": "a", "pool": "p", "backing": {"path": "relative.qcow2"}}, "backing.path", "absolute"),
    ({"name": "a", "pool": "p", "backing": {"path": "/b.qcow2", "pool": "q"}}, "backing.pool", "path"),
    ({"name": "a", "pool": "p", "upload": "/nonexistent/file"}, "upload", "not a file"),
    ({"name": "a", "pool": "p", "cloud_init": {"user_data": ["x"]}}, "cloud_init.user_data", "string"),
    ({"name": "a", "pool": "p", "cloud_init": {"user_data": "x"}, "capacity": 1}, "capacity", "omit it"),
    ({"name": "a", "pool": "p", "xml": "<volume><name>b</name></volume>"}, "xml", "'b'"),
    ({"name": "a", "pool": "p", "permissions": {"mode": "0999"}}, "permissions.mode", "octal"),
])
def test_volume_declarations_refused_name_the_option(params, option, fragment):
    with pytest.raises((InputError, ModelError)) as raised:  # an input check's error, or a codec's
        DeclaredVolume(params, "volumes[3].")
    assert str(raised.value).startswith("volumes[3].%s: " % option) and fragment in str(raised.value)


def test_a_volume_being_removed_needs_neither_its_file_nor_its_content():
    for content in ({"upload": "/nonexistent/file"}, {"cloud_init": {"user_data": "x"}}):
        declared = DeclaredVolume(dict({"name": "a", "pool": "p", "state": "absent"}, **content))
        assert declared.upload is None and declared.cloud_init is None


@pytest.mark.parametrize("params, option, fragment", [
    ({"name": ""}, "name", "required"),
    ({"name": "p", "type": "dir", "target": {"path": "images"}}, "target.path", "absolute"),
    ({"name": "p", "overwrite": True}, "overwrite", "build"),
    ({"name": "p", "source": {"port": 0}}, "source.port", "at least 1"),
    ({"name": "p", "uuid": "nope"}, "uuid", "UUID"),
    ({"name": "p", "xml": "<pool type='dir'><name>q</name></pool>"}, "xml", "'q'"),
    ({"name": "p", "xml": "<pool type='tape'><name>p</name></pool>"}, "xml", "tape"),
])
def test_pool_declarations_refused_name_the_option(params, option, fragment):
    with pytest.raises((InputError, ModelError)) as raised:  # an input check's error, or a codec's
        DeclaredPool(params)
    assert str(raised.value).startswith(option) and fragment in str(raised.value)


def test_pool_options_win_over_the_document():
    declared = DeclaredPool({"name": "shared", "xml": POOL_XML, "target": {"path": "/mnt/other"}})
    wanted = declared.wanted()
    assert wanted["target_path"] == "/mnt/other" and wanted["source_host"] == "nfs.example.test"


def test_cloud_init_image_read_back_as_written():
    files = cloud_init_files({"user_data": {"users": [{"name": "ops"}]}, "network_config": "version: 2\n"},
                             "cloud_init", "web1")
    label, read = read_cloud_init_image(build_cloud_init_image(files))
    assert label == "cidata" and read == files
    assert read["user-data"].startswith(b"#cloud-config\n") and read["meta-data"] == b"instance-id: web1\n"
    assert read_cloud_init_image(b"\0" * 65536) is None

"""The shared model base: parsing, codecs, ordered insertion, unknown XML kept, containment."""
from __future__ import annotations

import pytest
from lxml import etree

from ansible_collections.virt.libvirt.plugins.module_utils import _xmlmodel as xm
from ansible_collections.virt.libvirt.plugins.module_utils._diff import DifferenceTracker
from ansible_collections.virt.libvirt.plugins.module_utils._errors import ModelError


class Thing(xm.XMLModel):
    TAG = "thing"
    CHILD_ORDER = {"": ["name", "memory", "opts", "items"], "opts": ["a", "b", "c"]}
    name = xm.Field("name")
    memory = xm.Field("memory", codec=xm.MEMORY)
    mac = xm.Field("net/mac", attr="address", codec=xm.MAC)
    flag = xm.FlagField("opts/b")
    items = xm.ListField("items", "item", attr="v")
    tags = xm.ChildTagsField("opts")


def test_parse_refuses_bad_documents():
    with pytest.raises(ModelError, match="xml: is not well-formed XML"):
        xm.parse_xml("<thing>", "thing")
    with pytest.raises(ModelError, match=r"root element <other>, but a <thing>"):
        xm.parse_xml("<other/>", "thing")
    with pytest.raises(ModelError, match="is empty"):
        xm.parse_xml("  ", "thing")
    assert xm.parse_xml("<?xml version='1.0' encoding='UTF-8'?>\n<thing/>", "thing").tag == "thing"


def test_entities_are_not_resolved(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("TOPSECRET")
    doc = '<!DOCTYPE thing [<!ENTITY x SYSTEM "file://%s">]><thing><name>&x;</name></thing>' % secret
    thing = Thing(xm.parse_xml(doc, "thing"))
    assert "TOPSECRET" not in thing.to_xml()


@pytest.mark.parametrize("given,kib", [
    (524288, 524288), ("512MiB", 524288), ("512M", 524288), ("2GiB", 2097152), ("2G", 2097152),
    ("1000MB", 976563), ("1024", 1024), ("1048576b", 1024), ("2gib", 2097152), (" 512MiB ", 524288),
])
def test_memory_normalises_to_kib(given, kib):
    assert xm.MEMORY.normalize(given, "memory") == kib


@pytest.mark.parametrize("bad", ["lots", "12 parsecs", "-5", "", True, 1.5, "0", "1 GiB", "4096 KiB", "2 G"])
def test_memory_refuses_nonsense(bad):
    with pytest.raises(ModelError, match="^memory"):
        xm.MEMORY.normalize(bad, "memory")
        raise AssertionError("accepted %r" % (bad,))


def test_memory_with_a_space_before_its_unit_says_how_to_write_it():
    """'2 GB' is not silently 1953125 KiB (libvirt's GB is 1000^3 bytes): the message offers both spellings."""
    with pytest.raises(ModelError) as refused:
        xm.MEMORY.normalize("2 GB", "memory")
    assert str(refused.value) == ("memory: '2 GB' has a space between the number and the unit; write 2GB (GB is "
                                  "1000^3 bytes) or 2GiB (1024^3 bytes)")
    with pytest.raises(ModelError, match="write 512MiB$"):
        xm.MEMORY.normalize("512 MiB", "memory")


def test_memory_reads_the_unit_attribute():
    thing = Thing.from_xml("<thing><memory unit='MiB'>512</memory></thing>")
    assert thing.memory == 524288
    thing = Thing.from_xml("<thing><memory unit='GB'> 2 </memory></thing>")
    assert thing.memory == 1953125
    thing.validate_raw("xml")  # a unit attribute is the XML spelling of a unit, refused only when unknown
    with pytest.raises(ModelError, match="XB"):
        Thing.from_xml("<thing><memory unit='XB'>2</memory></thing>").validate_raw("xml")
    thing = Thing.from_xml("<thing><memory>131072</memory></thing>")
    assert thing.memory == 131072


def test_mac_is_normalised_and_checked():
    assert xm.MAC.normalize("52:54:00:AB:CD:EF", "mac") == "52:54:00:ab:cd:ef"
    assert xm.MAC.normalize("52-54-00-ab-cd-ef", "mac") == "52:54:00:ab:cd:ef"
    with pytest.raises(ModelError, match="not a MAC address"):
        xm.MAC.normalize("11:22:33:44:55:66:", "interfaces[0].mac")
    with pytest.raises(ModelError, match="multicast"):
        xm.MAC.normalize("11:22:33:44:55:66", "interfaces[0].mac")


def test_uuid_with_or_without_dashes():
    assert xm.UUID.normalize("4dea22b31d52d8f32516782e98ab3fa0", "uuid") == "4dea22b3-1d52-d8f3-2516-782e98ab3fa0"
    assert xm.UUID.normalize("4DEA22B3-1D52-D8F3-2516-782E98AB3FA0", "uuid") == "4dea22b3-1d52-d8f3-2516-782e98ab3fa0"
    with pytest.raises(ModelError, match="uuid: 'nope' is not a UUID"):
        xm.UUID.normalize("nope", "uuid")


def test_setting_a_field_keeps_unknown_xml_and_inserts_in_order():
    text = "<thing><!-- keep me --><zzz a='1'><deep/></zzz><name>a</name><items/></thing>"
    thing = Thing.from_xml(text)
    thing.memory = 2048
    thing.flag = True
    root = thing.element
    assert [c.tag for c in root if isinstance(c.tag, str)] == ["zzz", "name", "memory", "opts", "items"]
    assert "<!-- keep me -->" in thing.to_xml()
    assert root.find("zzz/deep") is not None
    assert root.find("memory").get("unit") == "KiB"


def test_none_removes_and_prunes_empty_parents():
    thing = Thing.from_xml("<thing><net><mac address='52:54:00:00:00:01'/></net></thing>")
    assert thing.mac == "52:54:00:00:00:01"
    thing.mac = None
    assert thing.element.find("net") is None


def test_list_and_child_tags_fields():
    thing = Thing.from_xml("<thing><opts><c x='1'/><a/></opts></thing>")
    assert thing.tags == ["a", "c"]
    thing.tags = ["a", "b", "c"]
    assert thing.element.find("opts/c").get("x") == "1"  # kept with what it carries
    # existing elements keep their place; the new one goes before the first that follows it
    assert [c.tag for c in thing.element.find("opts")] == ["b", "c", "a"]
    thing.items = ["1", "2"]
    assert thing.items == ["1", "2"]
    thing.items = []
    assert thing.element.find("items") is None


def test_apply_records_only_real_differences():
    thing = Thing.from_xml("<thing><name>a</name><memory unit='MiB'>1</memory></thing>")
    tracker = DifferenceTracker()
    thing.apply({"name": "a", "memory": 1024, "mac": None}, tracker)
    assert not tracker.changed
    assert thing.element.find("memory").get("unit") == "MiB"  # equal values keep their spelling
    thing.apply({"name": "b"}, tracker)
    assert tracker.as_list() == [{"field": "name", "before": "a", "after": "b"}]


def test_element_contains_allows_libvirt_defaults():
    actual = etree.fromstring("<cpu mode='host-model' check='partial'><model fallback='allow'/></cpu>")
    assert xm.element_contains(actual, etree.fromstring("<cpu mode='host-model'/>"))
    assert xm.element_contains(actual, etree.fromstring("<cpu><model/></cpu>"))
    assert not xm.element_contains(actual, etree.fromstring("<cpu mode='host-passthrough'/>"))
    assert not xm.element_contains(actual, etree.fromstring("<cpu><topology/></cpu>"))


def test_elements_equivalent_ignores_whitespace_only():
    first = etree.fromstring("<a x='1'>\n  <b>t</b>\n</a>")
    assert xm.elements_equivalent(first, etree.fromstring("<a x='1'><b> t </b></a>"))
    assert not xm.elements_equivalent(first, etree.fromstring("<a x='2'><b>t</b></a>"))
    assert not xm.elements_equivalent(first, etree.fromstring("<a x='1'><b>u</b></a>"))


def test_owned_tags_are_the_elements_the_fields_read():
    assert Thing.owned_tags() == {"name", "memory", "net", "opts", "items"}
    assert Thing.owned_tags("opts") == {"b"}
    assert Thing.owned_tags("items") == {"item"}
    assert Thing.owned_tags("net") == {"mac"}
    assert Thing.owned_tags("name") == set()


def test_overlay_lays_the_options_over_the_base_values():
    base = {"type": "dir", "target_path": "/srv/a", "source_dir": "/srv/src"}
    declared = {"target_path": "/srv/b", "source_dir": None, "uuid": None, "target_mode": "0755"}
    values = xm.overlay(base, declared)
    # A declared value wins, a declared None keeps the base's, a key only the options have comes last.
    assert values == {"type": "dir", "target_path": "/srv/b", "source_dir": "/srv/src", "uuid": None,
                      "target_mode": "0755"}
    assert list(values) == ["type", "target_path", "source_dir", "uuid", "target_mode"]
    assert base == {"type": "dir", "target_path": "/srv/a", "source_dir": "/srv/src"}  # not changed
    assert xm.overlay({}, {"mtu": None}) == {"mtu": None}

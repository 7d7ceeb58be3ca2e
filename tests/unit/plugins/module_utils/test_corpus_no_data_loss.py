"""No data loss, proven on libvirt 9.0.0's own test documents (../shared/corpus): every domain, network
and capabilities document is parsed with the model and rendered back, and the result must be the input
(same elements, attributes, text and order; whitespace-only text aside). Then ONE structured change is
made through the code path the modules use (domain: ``memory``; domain: a new entry of ``interfaces``;
network: a static DHCP host of ``ips[].dhcp.hosts``, changed, or added where the address has none), and the difference between the two documents must
be exactly that change. Capabilities documents are read-only in use (capabilities_facts only reads
them), so they get the round trip, plus a check that reading every fact writes nothing.

The comparison is this file's own (``canonical`` and ``tree_difference``), not the model's
``elements_equivalent``, so a bug shared by the model and its comparison cannot hide a loss.

Documents that cannot take a change are listed in ``EXCEPTED`` with the reason, and the list is checked
both ways: a listed document really is what the reason says, and every other document passes. The
counts per folder are printed by ``test_corpus_summary`` when the whole file runs (pytest's capture is
bypassed for it; the numbers are in docs/reliability.md).
"""
from __future__ import annotations

import difflib
import ipaddress
from collections import Counter, namedtuple

import pytest
from lxml import etree

from ansible_collections.virt.libvirt.plugins.module_utils._capabilities import capabilities_facts
from ansible_collections.virt.libvirt.plugins.module_utils._capabilities_model import Capabilities
from ansible_collections.virt.libvirt.plugins.module_utils._domain import DeclaredDomain, DomainPlan
from ansible_collections.virt.libvirt.plugins.module_utils._domain_model import DEVICE_CLASSES, Domain
from ansible_collections.virt.libvirt.plugins.module_utils._errors import InputError, ModelError
from ansible_collections.virt.libvirt.plugins.module_utils._network import (
    DeclaredNetwork, NetworkPlan, options_from_document,
)
from ansible_collections.virt.libvirt.plugins.module_utils._network_model import Network
from tests.support.harness import CORPUS

FOLDERS = ("domain/generic", "domain/qemu", "domain/xen-xl", "domain/xen-xm", "network", "capabilities")
DOCUMENTS = {folder: sorted((CORPUS / folder).glob("*.xml")) for folder in FOLDERS}
DOMAINS = [path for folder in FOLDERS[:4] for path in DOCUMENTS[folder]]
NETWORKS = DOCUMENTS["network"]
CAPABILITIES = DOCUMENTS["capabilities"]
ALL_DOCUMENTS = [path for folder in FOLDERS for path in DOCUMENTS[folder]]
MODEL_BY_FOLDER = {"network": Network, "capabilities": Capabilities}


def document_id(path):
    return "%s/%s" % (path.parent.relative_to(CORPUS), path.name)


# Documents that cannot take a structured change, by (document, change), with the reason. Each is checked:
# the reason holds (NO_ADDRESS: the document has no <ip> at all and its forward mode is the one named; the
# others: the module's own error is raised), and every document and change not in this table passes.
NO_ADDRESS = "no <ip> element (forward mode %s): the network has no address, so it has no DHCP host"
SLASH_NAME = "libvirt's own test of a name it refuses (foo/bar); the module refuses it too, naming the option"
REFUSED_PASSTHROUGH_IP = ("libvirt's parser test of an <ip> on a passthrough network, which libvirt refuses to "
                          "define; the module refuses it too, naming ips")
EXCEPTED = {
    ("network/8021Qbh-net.xml", "dhcp host"): NO_ADDRESS % "private",
    ("network/direct-net.xml", "dhcp host"): NO_ADDRESS % "bridge",
    ("network/empty-allow-ipv6.xml", "dhcp host"): NO_ADDRESS % "none",
    ("network/host-bridge-net.xml", "dhcp host"): NO_ADDRESS % "bridge",
    ("network/host-bridge-no-flood.xml", "dhcp host"): NO_ADDRESS % "bridge",
    ("network/hostdev-duplicate.xml", "dhcp host"): NO_ADDRESS % "hostdev",
    ("network/hostdev-pf-driver-model.xml", "dhcp host"): NO_ADDRESS % "hostdev",
    ("network/hostdev-pf.xml", "dhcp host"): NO_ADDRESS % "hostdev",
    ("network/hostdev.xml", "dhcp host"): NO_ADDRESS % "hostdev",
    ("network/isolated-ports.xml", "dhcp host"): NO_ADDRESS % "bridge",
    ("network/metadata.xml", "dhcp host"): NO_ADDRESS % "bridge",
    ("network/openvswitch-net.xml", "dhcp host"): NO_ADDRESS % "bridge",
    ("network/passthrough-address-crash.xml", "dhcp host"): NO_ADDRESS % "passthrough",
    ("network/passthrough-duplicate.xml", "dhcp host"): NO_ADDRESS % "passthrough",
    ("network/vepa-net.xml", "dhcp host"): NO_ADDRESS % "vepa",
    ("network/passthrough-pf.xml", "dhcp host"): REFUSED_PASSTHROUGH_IP,
    ("domain/generic/name-slash-fail.xml", "memory"): SLASH_NAME,
    ("domain/generic/name-slash-fail.xml", "new interface"): SLASH_NAME,
}
# Every outcome of the tests below, for the summary: document id -> (change, "passed" | reason).
OUTCOMES = {}


# -- this file's own comparison -------------------------------------------------------------------
Node = namedtuple("Node", "tag attributes text tail children")


def _significant(text):
    """Text as written, or None when it is only whitespace (indentation)."""
    return text if text is not None and text.strip() else None


def canonical(element):
    """A hashable form of an element: tag (comments and processing instructions by their kind),
    attributes, text and tail (whitespace-only ones dropped), and the children in order."""
    if isinstance(element.tag, str):
        tag = element.tag
    elif element.tag is etree.Comment:
        tag = "<!--comment-->"
    else:
        tag = "<?%s?>" % getattr(element, "target", "pi")
    return Node(tag, tuple(sorted(element.attrib.items())), _significant(element.text),
                _significant(element.tail), tuple(canonical(child) for child in element))


def read_original(path):
    """The document as lxml reads the file, independent of the model's parser."""
    return canonical(etree.parse(str(path)).getroot())


def tree_difference(before, after, path=""):
    """Every difference between two canonical trees, as tuples:
    ("attribute", path, name, before, after), ("text"|"tail", path, before, after),
    ("added", parent_path, index, node), ("removed", parent_path, index, node), ("tag", path, before, after).
    Children are aligned with difflib, so an inserted element is one "added" entry, not a cascade."""
    here = path or "/" + before.tag
    if before.tag != after.tag:
        return [("tag", here, before.tag, after.tag)]
    found = []
    old, new = dict(before.attributes), dict(after.attributes)
    for name in sorted(set(old) | set(new)):
        if old.get(name) != new.get(name):
            found.append(("attribute", here, name, old.get(name), new.get(name)))
    for kind in ("text", "tail"):
        if getattr(before, kind) != getattr(after, kind):
            found.append((kind, here, getattr(before, kind), getattr(after, kind)))
    matcher = difflib.SequenceMatcher(None, before.children, after.children, autojunk=False)
    for operation, first, last, new_first, new_last in matcher.get_opcodes():
        if operation == "equal":
            continue
        old_children, new_children = before.children[first:last], after.children[new_first:new_last]
        if operation == "replace" and [c.tag for c in old_children] == [c.tag for c in new_children]:
            for offset, (old_child, new_child) in enumerate(zip(old_children, new_children)):
                found.extend(tree_difference(old_child, new_child, _child_path(here, before, first + offset)))
            continue
        for offset, child in enumerate(old_children):
            found.append(("removed", here, first + offset, child))
        for offset, child in enumerate(new_children):
            found.append(("added", here, new_first + offset, child))
    return found


def _child_path(parent_path, parent, index):
    tag = parent.children[index].tag
    position = sum(1 for child in parent.children[:index] if child.tag == tag) + 1
    return "%s/%s[%d]" % (parent_path, tag, position)


def element_node(tag, attributes=(), children=(), text=None):
    return Node(tag, tuple(sorted(attributes)), text, None, tuple(children))


def find_child(node, tag):
    return next((child for child in node.children if child.tag == tag), None)


def assert_round_trip(path, rendered_xml):
    difference = tree_difference(read_original(path), canonical(etree.fromstring(rendered_xml)))
    assert difference == [], "%s lost or changed data on a parse/render round trip: %s" % (
        document_id(path), difference[:5])


# -- the comparison itself is tested, so a pass means something ------------------------------------
def test_the_comparison_sees_every_kind_of_loss():
    original = etree.fromstring("<a x='1'><!-- c --><b>t</b>tail<c/>\n  <d/></a>")
    same = etree.fromstring("<a x='1'>\n<!-- c -->\n  <b>t</b>tail<c/><d/>\n</a>")
    assert tree_difference(canonical(original), canonical(same)) == []  # whitespace only
    losses = {
        "<a x='1'><!-- c --><b>t</b>tail<c/></a>": "removed",           # an element dropped
        "<a><!-- c --><b>t</b>tail<c/><d/></a>": "attribute",           # an attribute dropped
        "<a x='1'><b>t</b>tail<c/><d/></a>": "removed",                 # a comment dropped
        "<a x='1'><!-- c --><b>T</b>tail<c/><d/></a>": "text",          # text changed
        "<a x='1'><!-- c --><b>t</b><c/><d/></a>": "tail",              # tail text dropped
        "<a x='1'><!-- c --><b>t</b>tail<d/><c/></a>": "added removed",  # order changed
        "<a x='1'><!-- c --><b>t</b>tail<c/><d/><e/></a>": "added",     # an element added
    }
    for text, kind in losses.items():
        difference = tree_difference(canonical(original), canonical(etree.fromstring(text)))
        assert sorted({entry[0] for entry in difference}) == kind.split(), (text, difference)


@pytest.mark.corpus
def test_the_corpus_is_there():
    counts = {folder: len(DOCUMENTS[folder]) for folder in FOLDERS}
    assert counts["domain/qemu"] > 600 and counts["network"] >= 50 and counts["capabilities"] >= 20, counts
    assert all(counts.values()), counts
    assert {document for document, _reason in EXCEPTED} <= {document_id(path) for path in ALL_DOCUMENTS}


# -- round trip: every document -------------------------------------------------------------------
def _model_for(path):
    folder = path.parent.name
    return MODEL_BY_FOLDER.get(folder, Domain)


def read_every_typed_field(model):
    """values() of the document and of the children the modules read (devices, addresses, hosts)."""
    values = [model.values()]
    if isinstance(model, Domain):
        values += [device.values() for kind in DEVICE_CLASSES for device in model.devices_of(kind)]
    if isinstance(model, Network):
        values.append(model.summary())
        for ip in model.ips:
            values += [ip.values(), ip.summary()] + [child.values() for child in ip.ranges + ip.hosts]
    return values


@pytest.mark.parametrize("path", ALL_DOCUMENTS, ids=document_id)
def test_round_trip_keeps_every_element_attribute_and_text(path):
    model = _model_for(path).from_xml(path.read_text(encoding="utf-8"))
    read_every_typed_field(model)  # reading must not write anything
    assert_round_trip(path, model.to_xml())
    OUTCOMES[(document_id(path), "round trip")] = "passed"


@pytest.mark.parametrize("path", CAPABILITIES, ids=document_id)
def test_capabilities_facts_read_without_writing(path):
    """capabilities_facts reads everything the module reports (host, NUMA cells, guests, machines);
    capabilities are read-only, so this is their whole code path and it must leave the tree as it was."""
    capabilities = Capabilities.from_xml(path.read_text(encoding="utf-8"))
    facts = capabilities_facts(capabilities)
    assert facts["host"] is not None
    assert_round_trip(path, capabilities.to_xml())


# -- domain: memory ---------------------------------------------------------------------------------
def _kib(element):
    """An element's size in KiB by libvirt's units (this file's own conversion; the corpus uses KiB,
    bytes, and power-of-1000/1024 suffixes)."""
    unit = (dict(element.attributes).get("unit") or "KiB").lower()
    number = int(element.text)
    factors = {"b": 1, "bytes": 1, "kb": 1000, "k": 1024, "kib": 1024, "mb": 1000 ** 2, "m": 1024 ** 2,
               "mib": 1024 ** 2, "gb": 1000 ** 3, "g": 1024 ** 3, "gib": 1024 ** 3, "tb": 1000 ** 4,
               "t": 1024 ** 4, "tib": 1024 ** 4}
    return -(-number * factors[unit] // 1024)


def domain_plan(path, **options):
    """The plan the domain module makes for a task on an existing guest defined by ``path``."""
    current = Domain.from_xml(path.read_text(encoding="utf-8"))
    return DomainPlan(DeclaredDomain(dict({"name": current.name}, **options)), current)


def excepted_domain_change(path, change, **options):
    """True when (document, change) is excepted, after checking that the reason holds."""
    reason = EXCEPTED.get((document_id(path), change))
    if reason is None:
        return False
    assert reason == SLASH_NAME
    with pytest.raises(ModelError, match="^name: must not contain '/'"):
        domain_plan(path, **options)
    OUTCOMES[(document_id(path), change)] = "excepted: " + reason
    return True


@pytest.mark.parametrize("path", DOMAINS, ids=document_id)
def test_domain_memory_change_is_the_only_difference(path):
    original = read_original(path)
    memory = find_child(original, "memory")
    if excepted_domain_change(path, "memory", memory="4GiB"):
        return
    new_kib = _kib(memory) + 1024 * 1024
    plan = domain_plan(path, memory="%dKiB" % new_kib)
    after = canonical(etree.fromstring(plan.desired.to_xml()))

    expected = [("text", "/domain/memory[1]", memory.text, str(new_kib))]
    if dict(memory.attributes).get("unit", "KiB") != "KiB":
        expected.insert(0, ("attribute", "/domain/memory[1]", "unit", dict(memory.attributes)["unit"], "KiB"))
    current_memory = find_child(original, "currentMemory")
    # The module's documented rule: a guest whose currentMemory equalled memory gets the new size at start
    # (otherwise libvirt would keep it at the old size); one set lower on purpose keeps its own.
    if current_memory is not None and _kib(current_memory) == _kib(memory):
        expected.append(("text", "/domain/currentMemory[1]", current_memory.text, str(new_kib)))
    assert tree_difference(original, after) == expected
    assert [d["field"] for d in plan.tracker.as_list()] == ["memory"] + (["current_memory"] if len(expected) > 1 else [])
    OUTCOMES[(document_id(path), "memory")] = "passed"


# -- domain: a new interface -----------------------------------------------------------------------
NEW_MAC = "52:54:00:c0:ff:ee"
NEW_INTERFACE = {"type": "network", "network": "corpus-lan", "mac": NEW_MAC, "model": "virtio"}
LATER_THAN_INTERFACE = {"smartcard", "serial", "parallel", "console", "channel", "input", "tpm", "graphics",
                        "sound", "audio", "video", "hostdev", "redirdev", "redirfilter", "hub", "watchdog",
                        "memballoon", "rng", "panic", "shmem", "memory", "iommu", "vsock", "crypto"}


@pytest.mark.parametrize("path", DOMAINS, ids=document_id)
def test_domain_new_interface_is_the_only_difference(path):
    original = read_original(path)
    assert NEW_MAC not in path.read_text(encoding="utf-8").lower()
    if excepted_domain_change(path, "new interface", interfaces=[NEW_INTERFACE]):
        return
    plan = domain_plan(path, interfaces=[NEW_INTERFACE])
    after = canonical(etree.fromstring(plan.desired.to_xml()))

    interface = element_node("interface", [("type", "network")], [
        element_node("mac", [("address", NEW_MAC)]),
        element_node("source", [("network", "corpus-lan")]),
        element_node("model", [("type", "virtio")]),
    ])
    devices = find_child(original, "devices")
    difference = tree_difference(original, after)
    assert [entry[:2] for entry in difference] == [("added", "/domain")] if devices is None else \
        [("added", "/domain/devices[1]")], difference
    ((_kind, _path, index, added),) = difference
    assert added == interface, added
    # Placed where libvirt writes it: after the other interfaces, before the devices that follow them.
    tags = [child.tag for child in devices.children]
    if "interface" in tags:
        assert index == len(tags) - tags[::-1].index("interface")
    assert not set(tags[:index]) & LATER_THAN_INTERFACE, tags
    assert [d["field"] for d in plan.tracker.as_list()] == ["interfaces[%s]" % NEW_MAC]
    OUTCOMES[(document_id(path), "new interface")] = "passed"


# -- network: a static DHCP host -------------------------------------------------------------------
def _target_ip(network_node):
    """The <ip> whose static hosts change: the first with a <dhcp> element (libvirt serves DHCP on it),
    else the first <ip>; None for a network without addresses."""
    addresses = [child for child in network_node.children if child.tag == "ip"]
    return next((ip for ip in addresses if find_child(ip, "dhcp") is not None), addresses[0] if addresses else None)


def _free_address(ip_node):
    """An address of the <ip>'s subnet that no range, host or the bridge itself uses."""
    attributes = dict(ip_node.attributes)
    length = attributes.get("prefix") or attributes.get("netmask") or "24"
    subnet = ipaddress.ip_interface("%s/%s" % (attributes["address"], length)).network
    dhcp = find_child(ip_node, "dhcp") or element_node("dhcp")
    used = {ipaddress.ip_address(attributes["address"])}
    ranges = []
    for child in dhcp.children:
        child_attributes = dict(child.attributes)
        if child.tag == "host" and "ip" in child_attributes:
            used.add(ipaddress.ip_address(child_attributes["ip"]))
        if child.tag == "range":
            ranges.append((ipaddress.ip_address(child_attributes["start"]), ipaddress.ip_address(child_attributes["end"])))
    # Outside the dynamic ranges where there is room, else inside one (dnsmasq allows both).
    candidates = [subnet.network_address + offset for offset in range(2, 250)]
    for candidate in sorted(candidates, key=lambda c: any(start <= c <= end for start, end in ranges)):
        if candidate not in used:
            return str(candidate)
    raise AssertionError("no free address in %s" % subnet)


def network_host_change(path):
    """The module's options for the network in ``path`` with ONE static host changed (the first host of
    the address serving DHCP gets a new ip) or, where it has none, added (on an address without <dhcp>,
    the host comes in a new <dhcp>); and the expected difference."""
    original = read_original(path)
    ip_node = _target_ip(original)
    ip_path = "/network/ip[%d]" % ([child for child in original.children if child.tag == "ip"].index(ip_node) + 1)
    dhcp = find_child(ip_node, "dhcp")
    hosts = [child for child in dhcp.children if child.tag == "host"] if dhcp is not None else []
    new_address = _free_address(ip_node)
    options = options_from_document(Network.from_xml(path.read_text(encoding="utf-8")))
    declared_ip = next(ip for ip in options["ips"] if ip["address"] == str(ipaddress.ip_address(
        dict(ip_node.attributes)["address"])))
    if hosts:
        declared_ip["dhcp"]["hosts"][0]["ip"] = new_address
        expected = [("attribute", ip_path + "/dhcp[1]/host[1]", "ip", dict(hosts[0].attributes)["ip"], new_address)]
    else:
        ipv6 = ":" in dict(ip_node.attributes)["address"]
        host = {"id": "0:4:7e:7d:f0:7d:a8:bc:c5:d2:13:32:11:ed:16:ea:84:63"} if ipv6 else {"mac": NEW_MAC}
        host.update({"name": "corpus-guest", "ip": new_address})
        declared_ip["dhcp"]["hosts"].append(host)
        expected_host = element_node("host", sorted(host.items()))
        if dhcp is not None:
            # libvirt writes <range>s, then <host>s, then <bootp>: the new host goes after the last range.
            position = max(index for index, child in enumerate(dhcp.children) if child.tag in ("range", "host")) + 1
            expected = [("added", ip_path + "/dhcp[1]", position, expected_host)]
        else:
            # <dhcp> is the last child libvirt writes in an <ip> (after <tftp>).
            expected = [("added", ip_path, len(ip_node.children), element_node("dhcp", children=[expected_host]))]
    for ip in options["ips"]:
        # The document's spelling is kept: an address written with a netmask is declared with it.
        if ip["netmask"] is not None:
            ip["prefix"] = None
    return original, options, expected


@pytest.mark.parametrize("path", NETWORKS, ids=document_id)
def test_network_dhcp_host_change_is_the_only_difference(path):
    identifier = document_id(path)
    original = read_original(path)
    if (identifier, "dhcp host") in EXCEPTED:
        reason = EXCEPTED[(identifier, "dhcp host")]
        if reason == REFUSED_PASSTHROUGH_IP:
            _original, options, _expected = network_host_change(path)
            with pytest.raises(InputError, match="^ips: a network with forward mode passthrough carries no IP"):
                NetworkPlan(DeclaredNetwork({"name": "net", "ips": options["ips"]}),
                            Network.from_xml(path.read_text(encoding="utf-8")))
        else:  # the reason holds: no address at all, in the forward mode named
            forward = find_child(original, "forward")
            mode = "none" if forward is None else dict(forward.attributes).get("mode", "nat")
            assert _target_ip(original) is None and reason == NO_ADDRESS % mode, (identifier, reason)
        OUTCOMES[(identifier, "dhcp host")] = "excepted: " + reason
        return
    original, options, expected = network_host_change(path)
    current = Network.from_xml(path.read_text(encoding="utf-8"))
    plan = NetworkPlan(DeclaredNetwork({"name": current.name, "ips": options["ips"]}), current)
    after = canonical(etree.fromstring(plan.desired.to_xml()))
    assert tree_difference(original, after) == expected
    assert len(plan.tracker.as_list()) == 1 and plan.tracker.fields[0].startswith("ips[")
    assert plan.structural_fields == []  # a static host change goes live, no restart
    OUTCOMES[(identifier, "dhcp host")] = "passed"


# -- the counts --------------------------------------------------------------------------------------
@pytest.mark.corpus
def test_corpus_summary(capsys):
    """Prints documents per folder, passed and excepted (with reasons) for each check; fails if any
    check of a document did not pass or was not run (nothing is skipped silently)."""
    checks = {"domain": ("round trip", "memory", "new interface"), "network": ("round trip", "dhcp host"),
              "capabilities": ("round trip",)}
    lines, missing = ["", "corpus no-data-loss summary (libvirt 9.0.0 test documents, %s)" % CORPUS], []
    reasons = Counter()
    for folder in FOLDERS:
        kinds = checks[folder.split("/", maxsplit=1)[0]]
        counts = Counter()
        for path in DOCUMENTS[folder]:
            for kind in kinds:
                outcome = OUTCOMES.get((document_id(path), kind))
                if outcome is None:
                    missing.append((document_id(path), kind))
                    continue
                counts[(kind, "passed" if outcome == "passed" else "excepted")] += 1
                if outcome != "passed":
                    reasons[(kind, outcome)] += 1
        lines.append("  %-16s %4d documents; %s" % (folder, len(DOCUMENTS[folder]), "; ".join(
            "%s: %d passed%s" % (kind, counts[(kind, "passed")],
                                 ", %d excepted" % counts[(kind, "excepted")] if counts[(kind, "excepted")] else "")
            for kind in kinds)))
    lines.append("  total %d documents" % len(ALL_DOCUMENTS))
    for (kind, reason), count in sorted(reasons.items()):
        lines.append("  %s %s (%d documents)" % (kind, reason, count))
    if missing:
        pytest.skip("run the whole file for the summary; %d checks did not run here" % len(missing))
    with capsys.disabled():
        print("\n".join(lines))
    assert sum(count for count in reasons.values()) == len(EXCEPTED)

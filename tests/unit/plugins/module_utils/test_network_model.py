"""The network model and plan: libvirt's own network corpus, its schema, normalisation, comparison,
input errors, and the order of live static-host updates."""
from __future__ import annotations

import pytest
from lxml import etree

from ansible_collections.virt.libvirt.plugins.module_utils import _xmlmodel as xm
from ansible_collections.virt.libvirt.plugins.module_utils._errors import InputError, ModelError
from ansible_collections.virt.libvirt.plugins.module_utils._network import (
    DeclaredNetwork, NetworkPlan, host_operations,
)
from ansible_collections.virt.libvirt.plugins.module_utils._network_model import Network
from tests.support.harness import CORPUS, SCHEMAS

CORPUS_NETWORKS = sorted((CORPUS / "network").glob("*.xml"))
# Corpus documents libvirt 9 parses but refuses to define (they test the parser only); the plan refuses
# them too, before the host is touched.
REFUSED_BY_LIBVIRT = {
    "passthrough-pf.xml": "ips: a network with forward mode passthrough carries no IP addresses",
    # libvirt refuses its <vlan> (a bridge network without a bridge name has nowhere to put one).
    "openvswitch-net.xml": "bridge.name: forward mode bridge needs the host bridge",
}


@pytest.fixture(scope="module")
def network_schema():
    return etree.RelaxNG(etree.parse(str(SCHEMAS / "network.rng")))


def assert_valid(schema, network):
    assert schema.validate(etree.fromstring(network.to_xml())), "%s\n%s" % (schema.error_log, network.to_pretty_xml())


def plan(params, current_xml=None):
    declared = DeclaredNetwork(dict({"name": "net"}, **params))
    return NetworkPlan(declared, Network.from_xml(current_xml) if current_xml else None)


@pytest.mark.corpus
def test_the_corpus_is_there():
    assert len(CORPUS_NETWORKS) >= 50


@pytest.mark.parametrize("path", CORPUS_NETWORKS, ids=lambda path: path.name)
def test_corpus_round_trip_keeps_every_element(path, network_schema):
    text = path.read_text()
    network = Network.from_user_xml(text)
    assert xm.elements_equivalent(etree.fromstring(text.encode()), etree.fromstring(network.to_xml().encode()))
    again = Network.from_xml(network.to_xml())
    assert again.values() == network.values() and again.summary() == network.summary()
    if network_schema.validate(etree.fromstring(text.encode())):  # a few use features newer than libvirt 9
        assert_valid(network_schema, network)


@pytest.mark.parametrize("path", CORPUS_NETWORKS, ids=lambda path: path.name)
def test_corpus_as_xml_base_is_idempotent(path):
    """Each document given as ``xml`` to the network it describes is no change, and defines itself
    unchanged when the network is new."""
    text = path.read_text()
    name = Network.from_xml(text).name
    if path.name in REFUSED_BY_LIBVIRT:
        with pytest.raises(InputError, match="^" + REFUSED_BY_LIBVIRT[path.name]):
            plan({"name": name, "xml": text})
        return
    assert plan({"name": name, "xml": text}, text).tracker.as_list() == []
    created = plan({"name": name, "xml": text})
    assert created.tracker.fields == ["network"]
    assert xm.elements_equivalent(etree.fromstring(text.encode()), created.desired.element)


def test_corpus_values_are_typed():
    network = Network.from_user_xml((CORPUS / "network" / "dhcp6host-routed-network.xml").read_text())
    assert (network.forward_mode, network.forward_dev) == ("route", "eth1")
    assert (network.bridge_name, network.bridge_stp, network.bridge_delay) == ("virbr1", True, 0)
    assert network.mac == "12:34:56:78:9a:bc"  # lower case
    first, second = network.ips
    assert (first.address, first.prefix_length, first.effective_family) == ("192.168.122.1", 24, "ipv4")
    assert [h.entry() for h in first.hosts][0] == {"mac": "00:16:3e:77:e2:ed", "id": None, "name": "a.example.com",
                                                   "ip": "192.168.122.10"}
    assert (second.address, second.prefix_length, second.effective_family) == ("2001:db8:ac10:fd01::1", 64, "ipv6")
    assert second.hosts[0].id == "0:4:7e:7d:f0:7d:a8:bc:c5:d2:13:32:11:ed:16:ea:84:63"
    assert second.hosts[1].entry() == {"mac": None, "id": None, "name": "paul", "ip": "2001:db8:ac10:fd01::1:21"}
    isolated = Network.from_xml((CORPUS / "network" / "isolated-network.xml").read_text())
    assert isolated.forward_mode == "none"
    assert Network.from_xml("<network><name>n</name><forward/></network>").forward_mode == "nat"


# The default network as libvirt 9 stores it on this kind of host (virsh net-dumpxml --inactive default).
LIBVIRT_DEFAULT = """<network>
  <name>default</name>
  <uuid>3987e3e8-73ae-46e1-9fc2-3e322d693122</uuid>
  <forward mode='nat'>
    <nat>
      <port start='1024' end='65535'/>
    </nat>
  </forward>
  <bridge name='virbr0' stp='on' delay='0'/>
  <mac address='52:54:00:6d:e5:ff'/>
  <ip address='192.168.122.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.122.2' end='192.168.122.254'/>
      <host mac='52:54:00:6c:3c:01' name='web1' ip='192.168.122.11'/>
    </dhcp>
  </ip>
  <ip family='ipv6' address='fd00:122::1' prefix='64'/>
</network>"""


def test_the_default_network_is_adopted_without_rewriting():
    assert plan({"name": "default"}, LIBVIRT_DEFAULT).tracker.as_list() == []
    same = plan({"name": "default", "uuid": "3987E3E873AE46E19FC23E322D693122",
                 "bridge": {"name": "virbr0", "stp": True, "delay": 0}, "forward": {"mode": "nat"},
                 "mac": "52:54:00:6D:E5:FF",
                 "ips": [{"address": "192.168.122.1", "prefix": 24,
                          "dhcp": {"range": {"start": "192.168.122.2", "end": "192.168.122.254"},
                                   "hosts": [{"mac": "52-54-00-6C-3C-01", "name": "web1", "ip": "192.168.122.11"}]}},
                         {"address": "FD00:122:0::1", "family": "ipv6", "prefix": 64}]}, LIBVIRT_DEFAULT)
    assert same.tracker.as_list() == []  # prefix 24 is netmask 255.255.255.0; addresses and MACs normalised
    assert etree.fromstring(same.desired.to_xml()).find("ip").get("netmask") == "255.255.255.0"


def test_a_static_host_is_the_only_change_and_goes_live():
    result = plan({"name": "default", "ips": [
        {"address": "192.168.122.1", "dhcp": {"hosts": [
            {"mac": "52:54:00:6c:3c:01", "name": "web1", "ip": "192.168.122.11"},
            {"mac": "52:54:00:6c:3c:02", "name": "web2", "ip": "192.168.122.12"}]}},
        {"address": "fd00:122::1"}]}, LIBVIRT_DEFAULT)
    assert result.tracker.as_list() == [{"field": "ips[192.168.122.1].dhcp.hosts[52:54:00:6c:3c:02]", "before": None,
                                         "after": "mac=52:54:00:6c:3c:02 name=web2 ip=192.168.122.12"}]
    assert result.structural_fields == []
    desired = etree.fromstring(result.desired.to_xml())
    assert desired.find("ip/dhcp/range") is not None  # the range was not declared: kept
    assert desired.find("forward/nat/port").get("start") == "1024"  # libvirt's defaults kept
    assert host_operations(Network.from_xml(LIBVIRT_DEFAULT), result.desired) == [
        {"command": "add", "address": "192.168.122.1", "index": 0,
         "host": {"mac": "52:54:00:6c:3c:02", "id": None, "name": "web2", "ip": "192.168.122.12"}}]


def test_structural_changes_are_told_apart_from_hosts():
    result = plan({"name": "default", "forward": {"mode": "route"}, "mtu": 9000, "domain": "lab.example",
                   "ips": [{"address": "192.168.122.1", "prefix": 25,
                            "dhcp": {"range": {"start": "192.168.122.2", "end": "192.168.122.100"}, "hosts": []}}]},
                  LIBVIRT_DEFAULT)
    assert result.tracker.fields == [
        "forward.mode", "domain", "mtu", "ips[192.168.122.1].prefix", "ips[192.168.122.1].dhcp.ranges",
        "ips[192.168.122.1].dhcp.hosts[52:54:00:6c:3c:01]", "ips[fd00:122::1]"]
    assert "ips[192.168.122.1].dhcp.hosts[52:54:00:6c:3c:01]" not in result.structural_fields
    desired = etree.fromstring(result.desired.to_xml())
    assert desired.find("forward").get("mode") == "route" and desired.find("forward/nat") is None
    assert desired.find("ip").get("prefix") == "25" and desired.find("ip").get("netmask") is None  # as declared
    assert len(desired.findall("ip")) == 1 and desired.find("ip/dhcp/host") is None


def test_new_networks_render_valid_xml(network_schema):
    nat = plan({"bridge": {"name": "vltn1", "stp": False, "delay": 2}, "forward": {"mode": "nat", "dev": "eth0"},
                "domain": "lab.example", "mtu": 1400, "mac": "52:54:00:AA:BB:CC", "uuid": "4dea22b31d52d8f32516782e98ab3fa0",
                "ips": [{"address": "10.231.1.1", "netmask": "255.255.255.0",
                         "dhcp": {"ranges": [{"start": "10.231.1.100", "end": "10.231.1.150"},
                                             {"start": "10.231.1.200", "end": "10.231.1.220"}],
                                  "hosts": [{"mac": "52:54:00:00:00:01", "name": "a", "ip": "10.231.1.5"},
                                            {"name": "b", "ip": "10.231.1.6"}]}},
                        {"address": "fd00:231:1::1", "prefix": 64,
                         "dhcp": {"range": {"start": "fd00:231:1::100", "end": "fd00:231:1::1ff"},
                                  "hosts": [{"id": "00:03:00:01:52:54:00:00:00:01", "ip": "fd00:231:1::5"},
                                            {"name": "v6only", "ip": "fd00:231:1::6"}]}}]})
    assert nat.tracker.fields == ["network"]
    assert_valid(network_schema, nat.desired)
    rendered = etree.fromstring(nat.desired.to_xml())
    assert [child.tag for child in rendered] == ["name", "uuid", "forward", "bridge", "mtu", "mac", "domain", "ip", "ip"]
    assert rendered.findall("ip")[1].get("family") == "ipv6"  # libvirt needs it for an IPv6 address
    assert rendered.findall("ip")[1].find("dhcp/host").get("id") == "0:3:0:1:52:54:0:0:0:1"
    isolated = plan({"forward": {"mode": "none"}, "ips": [{"address": "10.231.2.1", "prefix": 24}]})
    assert etree.fromstring(isolated.desired.to_xml()).find("forward") is None
    assert_valid(network_schema, isolated.desired)
    host_bridge = plan({"forward": {"mode": "bridge"}, "bridge": {"name": "br0"}})
    assert_valid(network_schema, host_bridge.desired)
    # A network re-read from what was rendered is no change.
    assert plan({"xml": nat.desired.to_xml()}, nat.desired.to_xml()).tracker.as_list() == []


def test_leaving_nat_for_a_host_bridge_drops_what_libvirt_refuses_there():
    result = plan({"name": "default", "forward": {"mode": "bridge"}, "bridge": {"name": "br0"}, "ips": []},
                  LIBVIRT_DEFAULT)
    rendered = etree.fromstring(result.desired.to_xml())
    assert rendered.find("bridge").attrib == {"name": "br0"} and rendered.find("mac") is None
    assert rendered.find("ip") is None and rendered.find("forward/nat") is None
    assert {"field": "bridge.stp", "before": True, "after": None} in result.tracker.as_list()


def test_undeclared_options_are_kept_and_removals_are_explicit():
    stored = LIBVIRT_DEFAULT.replace("<mac address", "<domain name='old.example' localOnly='yes'/><mac address")
    stored = stored.replace("<forward mode='nat'>", "<forward mode='nat' dev='eth0'><interface dev='eth0'/>")
    kept = plan({"name": "default", "mtu": 1500}, stored)
    assert kept.tracker.fields == ["mtu"]
    removed = plan({"name": "default", "domain": "", "forward": {"dev": ""}}, stored)
    assert removed.tracker.fields == ["forward.dev", "domain"]
    rendered = etree.fromstring(removed.desired.to_xml())
    assert rendered.find("domain") is None and rendered.find("forward").get("dev") is None
    assert rendered.find("forward/interface") is None  # libvirt's mirror of the old dev goes too
    moved = plan({"name": "default", "forward": {"dev": "eth1"}}, stored)
    forward = etree.fromstring(moved.desired.to_xml()).find("forward")
    assert forward.get("dev") == "eth1" and forward.find("interface") is None
    disabled = plan({"name": "default", "ips": [{"address": "192.168.122.1", "dhcp": {"enabled": False}},
                                                {"address": "fd00:122::1"}]}, stored)
    assert etree.fromstring(disabled.desired.to_xml()).find("ip/dhcp") is None


def test_xml_base_with_structured_options_on_top():
    user_xml = """<network><name>net</name><forward mode='route'/><bridge name='vltb'/>
      <dns><host ip='10.231.3.9'><hostname>svc</hostname></host></dns>
      <ip address='10.231.3.1' prefix='24'><tftp root='/srv/tftp'/>
        <dhcp><range start='10.231.3.10' end='10.231.3.20'/><bootp file='pxelinux.0'/></dhcp></ip>
      <route address='10.231.30.0' prefix='24' gateway='10.231.3.2'/></network>"""
    stored = """<network><name>net</name><uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid><forward mode='route'/>
      <bridge name='vltb' stp='on' delay='0'/><mac address='52:54:00:01:02:03'/>
      <ip address='10.231.3.1' prefix='24'><dhcp><range start='10.231.3.10' end='10.231.3.20'/></dhcp></ip></network>"""
    result = plan({"xml": user_xml, "mtu": 9000}, stored)
    assert result.tracker.fields == ["dns", "<route address='10.231.30.0' prefix='24' gateway='10.231.3.2'>", "mtu",
                                     "ips[10.231.3.1].tftp", "ips[10.231.3.1].dhcp.bootp"]
    rendered = etree.fromstring(result.desired.to_xml())
    assert [child.tag for child in rendered] == ["name", "uuid", "forward", "bridge", "mtu", "mac", "dns", "ip", "route"]
    assert rendered.find("ip/dhcp/bootp").get("file") == "pxelinux.0"
    assert plan({"xml": user_xml, "mtu": 9000}, result.desired.to_xml()).tracker.as_list() == []
    overridden = plan({"xml": user_xml, "forward": {"mode": "nat"}}, stored)
    assert {"field": "forward.mode", "before": "route", "after": "nat"} in overridden.tracker.as_list()


@pytest.mark.parametrize("params, option, message", [
    ({"ips": [{"address": "10.231.1.0", "prefix": 24}]}, "ips[0].address",
     "10.231.1.0 is the network address of 10.231.1.0/24"),
    ({"ips": [{"address": "10.231.1.255", "prefix": 24}]}, "ips[0].address", "is the broadcast address"),
    ({"ips": [{"address": "10.231.1.1", "prefix": 33}]}, "ips[0].prefix", "33 is outside 1-32"),
    ({"ips": [{"address": "10.231.1.1", "prefix": 24, "dhcp": {"range": {"start": "10.231.1.10",
                                                                         "end": "10.231.2.10"}}}]},
     "ips[0].dhcp.range.end", "the range end 10.231.2.10 is outside the subnet 10.231.1.0/24"),
    ({"ips": [{"address": "10.231.1.1", "prefix": 24, "dhcp": {"range": {"start": "10.231.1.90",
                                                                         "end": "10.231.1.10"}}}]},
     "ips[0].dhcp.range", "starts at 10.231.1.90, after its end 10.231.1.10"),
    ({"ips": [{"address": "10.231.1.1", "netmask": "255.255.255.0", "dhcp": {"hosts": [
        {"mac": "52:54:00:00:00:01", "ip": "10.231.9.5"}]}}]},
     "ips[0].dhcp.hosts[0].ip", "the static address 10.231.9.5 is outside the subnet 10.231.1.0/24"),
    ({"ips": [{"address": "10.231.1.1", "prefix": 24, "dhcp": {"hosts": [
        {"mac": "52:54:00:00:00:01", "ip": "10.231.1.5"}, {"mac": "52:54:00:00:00:01", "ip": "10.231.1.6"}]}}]},
     "ips[0].dhcp.hosts[1].mac", "the MAC address 52:54:00:00:00:01 is already used by hosts[0]"),
    ({"ips": [{"address": "10.231.1.1", "prefix": 24, "dhcp": {"hosts": [
        {"mac": "52:54:00:00:00:01", "ip": "10.231.1.5"}, {"mac": "52:54:00:00:00:02", "ip": "10.231.1.5"}]}}]},
     "ips[0].dhcp.hosts[1].ip", "the IP address 10.231.1.5 is already used"),
    ({"ips": [{"address": "10.231.1.1", "prefix": 24, "dhcp": {"hosts": [{"mac": "52:54:00:00:00:01",
                                                                          "ip": "10.231.1.1"}]}}]},
     "ips[0].dhcp.hosts[0].ip", "the network's own address"),
    ({"ips": [{"address": "10.231.1.1", "dhcp": {"hosts": [{"ip": "10.231.1.5"}]}}]},
     "ips[0].dhcp.hosts[0].mac", "needs the guest's mac"),
    ({"ips": [{"address": "fd00::1", "dhcp": {"hosts": [{"mac": "52:54:00:00:00:01", "ip": "fd00::5"}]}}]},
     "ips[0].dhcp.hosts[0].mac", "by their DUID (id) or name, not by MAC"),
    ({"ips": [{"address": "10.231.1.1", "dhcp": {"range": {"start": "fd00::5", "end": "fd00::9"}}}]},
     "ips[0].dhcp.range.start", "fd00::5 is not an IPv4 address"),
    ({"ips": [{"address": "10.231.1.1", "family": "ipv6"}]}, "ips[0].family", "is ipv6 but 10.231.1.1 is an IPv4"),
    ({"ips": [{"address": "fd00::1", "netmask": "255.255.255.0"}]}, "ips[0].netmask", "takes a prefix"),
    ({"ips": [{"address": "10.231.1.1", "netmask": "255.0.255.0"}]}, "ips[0].netmask", "not an IPv4 netmask"),
    ({"ips": [{"address": "10.231.1.1", "prefix": 24, "netmask": "255.255.255.0"}]}, "ips[0].netmask",
     "prefix or netmask, not both"),
    ({"ips": [{"address": "10.231.1.300"}]}, "ips[0].address", "is not an IP address"),
    ({"ips": [{"address": "10.231.1.1"}, {"address": "10.231.1.01"}]}, "ips[1].address", "is not an IP address"),
    ({"ips": [{"address": "10.231.1.1", "prefix": 24}, {"address": "10.231.1.1", "prefix": 25}]}, "ips[1].address",
     "10.231.1.1 is declared twice"),
    ({"ips": [{"address": "10.231.1.1", "prefix": 24, "dhcp": {"range": {"start": "10.231.1.5", "end": "10.231.1.9"}}},
              {"address": "10.231.2.1", "prefix": 24, "dhcp": {"range": {"start": "10.231.2.5", "end": "10.231.2.9"}}}]},
     "ips[1].dhcp", "libvirt serves DHCP on one IPv4 address per network; ips[0] has DHCP already"),
    ({"forward": {"mode": "tunnel"}}, "forward.mode", "unknown value 'tunnel'"),
    ({"bridge": {"name": "a-bridge-name-too-long"}}, "bridge.name", "22 characters long; the kernel allows at most 15"),
    ({"bridge": {"name": "br 0"}}, "bridge.name", "not a valid interface name"),
    ({"bridge": {"delay": -1}}, "bridge.delay", "must be at least 0"),
    ({"mtu": 20}, "mtu", "must be at least 68"),
    ({"mac": "01:00:5e:00:00:01"}, "mac", "multicast MAC address"),
    ({"domain": "bad domain"}, "domain", "is not a DNS name"),
    ({"uuid": "not-a-uuid"}, "uuid", "is not a UUID"),
    ({"forward": {"mode": "bridge"}, "bridge": {"name": "br0"}, "ips": [{"address": "10.231.1.1"}]}, "ips",
     "forward mode bridge carries no IP addresses"),
    ({"forward": {"mode": "bridge"}, "bridge": {"name": "br0", "stp": True}}, "bridge.stp",
     "applies only to bridges libvirt creates"),
    ({"forward": {"mode": "bridge"}}, "bridge.name", "needs the host bridge"),
    ({"forward": {"mode": "vepa"}, "bridge": {"name": "br0"}}, "bridge.name", "uses a host interface"),
    ({"forward": {"mode": "none", "dev": "eth0"}}, "forward.dev", "has no forward device"),
    ({"xml": "<network><name>other</name></network>"}, "xml", "names the network 'other'"),
    ({"xml": "<network><name>net</name><ip address='10.1.1.x'/></network>"}, "xml: ip[1]: /@address",
     "is not an IP address"),
    ({"xml": "<domain/>"}, "xml", "root element <domain>"),
])
def test_bad_input_names_the_option(params, option, message):
    with pytest.raises((InputError, ModelError)) as caught:  # an input check's error, or a codec's
        plan(params)
    assert caught.value.option == option, str(caught.value)
    assert message in str(caught.value)


def test_bad_input_against_an_existing_network():
    with pytest.raises(InputError, match="^uuid: the network net exists with uuid"):
        plan({"uuid": "00000000-0000-0000-0000-000000000001"}, LIBVIRT_DEFAULT.replace("default", "net"))
    # The existing address' own prefix (a /25 netmask) decides what is inside its subnet.
    stored = LIBVIRT_DEFAULT.replace("netmask='255.255.255.0'", "netmask='255.255.255.128'").replace(
        "end='192.168.122.254'", "end='192.168.122.100'")
    with pytest.raises(InputError, match="outside the subnet 192.168.122.0/25") as caught:
        plan({"ips": [{"address": "192.168.122.1", "dhcp": {"hosts": [{"mac": "52:54:00:00:00:09",
                                                                       "ip": "192.168.122.200"}]}}]}, stored)
    assert caught.value.option == "ips[0].dhcp.hosts[0].ip"


def hosts_network(hosts):
    rendered = "".join("<host %s/>" % " ".join("%s='%s'" % item for item in host.items()) for host in hosts)
    return Network.from_xml("<network><name>n</name><ip address='10.0.0.1' prefix='24'>"
                            "<dhcp><range start='10.0.0.100' end='10.0.0.200'/>%s</dhcp></ip>"
                            "<ip family='ipv6' address='fd00::1' prefix='64'/></network>" % rendered)


def commands(operations):
    return [(op["command"], op["index"], op["host"]["mac"] or op["host"]["name"], op["host"]["ip"]) for op in operations]


def test_host_operations_add_modify_delete():
    source = hosts_network([{"mac": "52:54:00:00:00:01", "ip": "10.0.0.5"}, {"mac": "52:54:00:00:00:02", "ip": "10.0.0.6"}])
    desired = hosts_network([{"mac": "52:54:00:00:00:01", "ip": "10.0.0.7", "name": "a"},
                             {"mac": "52:54:00:00:00:03", "ip": "10.0.0.6"}])
    assert commands(host_operations(source, desired)) == [
        ("delete", 0, "52:54:00:00:00:02", "10.0.0.6"), ("modify", 0, "52:54:00:00:00:01", "10.0.0.7"),
        ("add", 0, "52:54:00:00:00:03", "10.0.0.6")]
    assert host_operations(desired, desired) == []


def test_host_operations_never_let_modify_pick_the_wrong_entry():
    # Two guests swap addresses: libvirt's MODIFY finds an entry by MAC *or* IP, so it would rewrite the
    # other guest's entry; these become deletions first and additions last.
    source = hosts_network([{"mac": "52:54:00:00:00:01", "ip": "10.0.0.5"}, {"mac": "52:54:00:00:00:02", "ip": "10.0.0.6"}])
    desired = hosts_network([{"mac": "52:54:00:00:00:01", "ip": "10.0.0.6"}, {"mac": "52:54:00:00:00:02", "ip": "10.0.0.5"}])
    operations = host_operations(source, desired)
    assert commands(operations) == [
        ("delete", 0, "52:54:00:00:00:01", "10.0.0.5"), ("modify", 0, "52:54:00:00:00:02", "10.0.0.5"),
        ("add", 0, "52:54:00:00:00:01", "10.0.0.6")]
    # Replayed the way libvirt applies them, nothing collides and the result is the desired set.
    state = [h.entry() for h in source.ips[0].hosts]
    for op in operations:
        host = op["host"]
        if op["command"] == "delete":
            state.remove(host)
        elif op["command"] == "modify":
            (index,) = [i for i, e in enumerate(state) if e["mac"] == host["mac"] or e["ip"] == host["ip"]]
            state[index] = host
        else:
            assert not [e for e in state if e["mac"] == host["mac"] or e["ip"] == host["ip"]]
            state.append(host)
    assert sorted(state, key=str) == sorted((h.entry() for h in desired.ips[0].hosts), key=str)


def test_host_operations_skip_addresses_that_need_a_restart():
    source = hosts_network([{"mac": "52:54:00:00:00:01", "ip": "10.0.0.5"}])
    moved = Network.from_xml(source.to_xml().replace("prefix='24'", "prefix='16'", 1))
    assert host_operations(source, moved) == []  # the subnet differs: the live network cannot take it


def test_ipv6_hosts_by_duid_and_name():
    result = plan({"ips": [{"address": "fd00:231::1", "prefix": 64, "dhcp": {"hosts": [
        {"id": "0:3:0:1:52:54:0:0:0:1", "ip": "fd00:231::5"}, {"name": "six", "ip": "fd00:231::6"}]}}]})
    source = hosts_network([])
    operations = host_operations(Network.from_xml(source.to_xml().replace("fd00::1", "fd00:231::1")), result.desired)
    assert commands(operations) == [("add", 1, None, "fd00:231::5"), ("add", 1, "six", "fd00:231::6")]
    assert host_operations(source, result.desired) == []  # the source lacks fd00:231::1: nothing to do live
    hosts = [h.entry() for h in result.desired.ips[0].hosts]
    assert hosts == [{"mac": None, "id": "0:3:0:1:52:54:0:0:0:1", "name": None, "ip": "fd00:231::5"},
                     {"mac": None, "id": None, "name": "six", "ip": "fd00:231::6"}]


def test_every_example_is_valid_input():
    """The module's EXAMPLES pass its argument spec and the model's own checks."""
    import yaml
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
    from ansible_collections.virt.libvirt.plugins.module_utils._network import (
        NETWORK_MUTUALLY_EXCLUSIVE, network_argument_spec,
    )
    from ansible_collections.virt.libvirt.plugins.modules import network as module

    validator = ArgumentSpecValidator(network_argument_spec(), mutually_exclusive=NETWORK_MUTUALLY_EXCLUSIVE)
    examples = yaml.safe_load(module.EXAMPLES)
    assert len(examples) >= 8
    for example in examples:
        options = example["virt.libvirt.network"]
        if "xml" in options:
            options = dict(options, xml="<network><name>%s</name></network>" % options["name"])
        checked = validator.validate(options)
        assert not checked.error_messages, (example["name"], checked.error_messages)
        params = checked.validated_parameters
        for item in params.get("networks") or [params]:
            if (item.get("state") or params["state"]) != "absent":
                DeclaredNetwork(item)

"""The libvirt_guests inventory plugin's pure parts: options, addresses, host names and groups.

Reading real guests is tested against the daemon in tests/integration/test_inventory_plugin.py; the
``answer`` dicts here are shaped exactly like libvirt's interfaceAddresses() return value.
"""
from __future__ import annotations

import re

import pytest
from hypothesis import given, strategies as st

from ansible_collections.virt.libvirt.plugins.inventory.libvirt_guests import InventoryModule
from ansible_collections.virt.libvirt.plugins.module_utils._errors import VirtLibvirtError
from ansible_collections.virt.libvirt.plugins.module_utils._guests_inventory import (
    InventorySettings, choose_ansible_host, hypervisor_name, inventory_hosts, merge_addresses, safe_group_name,
)

MAC_A = "52:54:00:aa:00:01"
MAC_B = "52:54:00:aa:00:02"


def settings(**options):
    return InventorySettings(options)


def nic(mac):
    return {"mac": mac, "type": "network", "source": "default", "model": "virtio", "target": None}


def entry(mac, *addresses):
    """One interface of an interfaceAddresses() answer; type 0 is IPv4, 1 is IPv6 (VIR_IP_ADDR_TYPE_*)."""
    return {"hwaddr": mac, "addrs": [{"addr": a, "prefix": 64 if ":" in a else 24, "type": 1 if ":" in a else 0}
                                     for a in addresses]}


# -- options ---------------------------------------------------------------------------------------------

def test_defaults():
    chosen = settings()
    assert chosen.uris == ["qemu:///system"]
    assert chosen.address_sources == ["lease", "agent"]
    assert (chosen.host_naming, chosen.ansible_host_address, chosen.group_prefix) == ("name", "prefer_ipv4", "libvirt_")
    assert chosen.states is None and chosen.wants_state("crashed")
    assert chosen.on_uri_error == "fail" and not chosen.read_only


@pytest.mark.parametrize("options, option, text", [
    ({"uris": []}, "uris", "at least one"),
    ({"uris": ["qemu:///system", ""]}, "uris", "item 2 must be a non-empty string"),
    ({"states": ["running", "asleep"]}, "states", "'asleep' is not one of"),
    ({"address_sources": ["dhcp"]}, "address_sources", "'dhcp' is not one of lease, agent, arp"),
    ({"host_naming": "fqdn"}, "host_naming", "'fqdn' is not one of"),
    ({"ansible_host_address": "first"}, "ansible_host_address", "'first' is not one of"),
    ({"host_naming": "hypervisor_and_name", "host_name_separator": ","}, "host_name_separator", "','"),
    ({"host_naming": "hypervisor_and_name", "host_name_separator": ""}, "host_name_separator", "non-empty"),
    ({"group_prefix": "kvm-"}, "group_prefix", "valid group name"),
    ({"group_prefix": "1st_"}, "group_prefix", "not start with a digit"),
    ({"on_uri_error": "ignore"}, "on_uri_error", "'ignore' is not one of fail, warn"),
])
def test_bad_options_name_the_option(options, option, text):
    with pytest.raises(VirtLibvirtError) as caught:
        settings(**options)
    assert caught.value.option == option
    assert str(caught.value).startswith(option + ": ") and text in str(caught.value)


def test_one_uri_as_a_string_is_a_list_of_one():
    assert settings(uris="test+unix:///default").uris == ["test+unix:///default"]


def test_name_patterns_and_states():
    chosen = settings(include_names=["web-*", "db?"], exclude_names=["web-old*"], states=["running", "paused"])
    assert [n for n in ("web-1", "db1", "db10", "web-old1", "mail") if chosen.wants_name(n)] == ["web-1", "db1"]
    assert chosen.wants_state("paused") and not chosen.wants_state("shutoff")
    assert settings(exclude_names=["*"]).wants_name("x") is False


def test_duplicate_list_items_are_kept_once_and_empty_sources_read_nothing():
    assert settings(uris=["qemu:///system", "qemu:///system"]).uris == ["qemu:///system"]
    assert settings(address_sources=[]).address_sources == []


def test_fingerprint_changes_with_what_is_read_not_with_how_it_is_shown():
    base = settings().fetch_fingerprint()
    assert settings(host_naming="uuid", group_prefix="g_", ansible_host_address="ipv6").fetch_fingerprint() == base
    assert settings(states=["running"]).fetch_fingerprint() != base
    assert settings(address_sources=["agent"]).fetch_fingerprint() != base


# -- addresses -------------------------------------------------------------------------------------------

def test_lease_wins_then_agent_adds_and_guest_internal_interfaces_are_ignored():
    interfaces = [nic(MAC_A), nic(MAC_B)]
    lease = {"vnet0": entry(MAC_A, "10.232.0.50"), "vnet1": entry(MAC_B.upper(), "10.232.1.7")}
    agent = {
        "lo": entry("00:00:00:00:00:00", "127.0.0.1", "::1"),
        "eth0": entry(MAC_A, "10.232.0.50", "fe80::5054:ff:feaa:1", "2001:db8::50"),
        "docker0": entry("02:42:ac:11:00:01", "172.17.0.1"),
        "eth1": entry(MAC_B, "169.254.3.3", "10.232.1.8"),
    }
    addresses = merge_addresses(interfaces, [("lease", lease), ("agent", agent)])
    assert addresses == ["10.232.0.50", "10.232.1.7", "2001:db8::50", "10.232.1.8"]
    assert interfaces[0]["addresses"] == [
        {"address": "10.232.0.50", "prefix": 24, "family": "ipv4", "source": "lease"},
        {"address": "2001:db8::50", "prefix": 64, "family": "ipv6", "source": "agent"},
    ]
    assert [a["source"] for a in interfaces[1]["addresses"]] == ["lease", "agent"]


def test_the_source_order_decides():
    interfaces = [nic(MAC_A)]
    addresses = merge_addresses(interfaces, [("agent", {"eth0": entry(MAC_A, "10.0.0.9")}),
                                             ("lease", {"vnet0": entry(MAC_A, "10.0.0.5", "10.0.0.9")})])
    assert addresses == ["10.0.0.9", "10.0.0.5"]
    assert interfaces[0]["addresses"][0]["source"] == "agent"


def test_nothing_usable_gives_no_addresses():
    interfaces = [nic(MAC_A), {"mac": None, "type": "user"}]
    answer = {"eth0": entry(MAC_A, "fe80::1", "0.0.0.0", "224.0.0.1", "not-an-address"),
              "x": {"hwaddr": None, "addrs": [{"addr": "10.1.1.1", "prefix": 8, "type": 0}]}, "y": None}
    assert merge_addresses(interfaces, [("lease", answer), ("arp", {})]) == []
    assert interfaces[0]["addresses"] == [] and interfaces[1]["addresses"] == []


@pytest.mark.parametrize("preference, expected", [
    ("prefer_ipv4", "10.0.0.1"), ("prefer_ipv6", "2001:db8::1"), ("ipv4", "10.0.0.1"), ("ipv6", "2001:db8::1"),
    ("none", None),
])
def test_ansible_host_choice(preference, expected):
    assert choose_ansible_host(["2001:db8::1", "10.0.0.1", "10.0.0.2"], preference) == expected


def test_ansible_host_falls_back_to_the_other_family_only_when_preferred():
    assert choose_ansible_host(["2001:db8::1"], "prefer_ipv4") == "2001:db8::1"
    assert choose_ansible_host(["2001:db8::1"], "ipv4") is None
    assert choose_ansible_host([], "prefer_ipv4") is None


# -- names and groups ------------------------------------------------------------------------------------

def test_hypervisor_names():
    assert hypervisor_name("qemu+ssh://root@kvm01.example.com/system", "ignored", "uri") == "kvm01.example.com"
    assert hypervisor_name("qemu+ssh://root@192.0.2.9:2222/system", "kvm09", "uri") == "192.0.2.9"
    assert hypervisor_name("qemu+ssh://root@192.0.2.9/system", "kvm09", "libvirt") == "kvm09"
    assert hypervisor_name("qemu:///system", "vm", "uri") == "vm"


@given(st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=4))
def test_group_names_are_always_valid(parts):
    name = safe_group_name("libvirt_host", *parts)
    assert re.match(r"^[a-z_][a-z0-9_]*$", name)


def test_group_name_of_an_fqdn():
    assert safe_group_name("libvirt_host", "KVM01.Example.com") == "libvirt_host_kvm01_example_com"


def guest(name, uuid, state="running", addresses=(), domain_type="kvm"):
    return {"name": name, "uuid": uuid, "id": 3 if state == "running" else None, "type": domain_type,
            "os_type": "hvm", "arch": "x86_64", "state": state, "persistent": True, "autostart": False,
            "memory_kib": 65536, "current_memory_kib": 65536, "vcpu": 1, "interfaces": [],
            "addresses": list(addresses)}


def fetched(*uri_records):
    return {"settings": {}, "uris": list(uri_records), "skipped": []}


UUID_1 = "11111111-2222-3333-4444-555555555555"
UUID_2 = "66666666-7777-8888-9999-000000000000"


def test_hosts_variables_and_groups():
    data = fetched({"uri": "qemu+ssh://root@kvm01.example.com/system", "hypervisor": "kvm01.example.com",
                    "guests": [guest("web1", UUID_1, addresses=["2001:db8::7", "10.232.0.7"]),
                               guest("db1", UUID_2, state="shutoff")]})
    hosts = {name: (variables, groups) for name, variables, groups in inventory_hosts(data, settings())}
    variables, groups = hosts["web1"]
    assert variables["ansible_host"] == "10.232.0.7"
    assert variables["libvirt_uri"] == "qemu+ssh://root@kvm01.example.com/system"
    assert variables["libvirt_hypervisor"] == "kvm01.example.com"
    assert (variables["libvirt_uuid"], variables["libvirt_memory_kib"], variables["libvirt_vcpu"]) == (UUID_1, 65536, 1)
    assert groups == ["libvirt_guests", "libvirt_host_kvm01_example_com", "libvirt_type_kvm", "libvirt_state_running"]
    assert "ansible_host" not in hosts["db1"][0] and hosts["db1"][1][-1] == "libvirt_state_shutoff"


def test_host_naming_and_group_prefix():
    data = fetched({"uri": "qemu:///system", "hypervisor": "kvm01", "guests": [guest("web1", UUID_1)]})
    ((name, _hostvars, groups),) = inventory_hosts(data, settings(host_naming="hypervisor_and_name",
                                                                  host_name_separator="/", group_prefix="lv_"))
    assert name == "kvm01/web1" and groups[0] == "lv_guests" and "lv_host_kvm01" in groups
    ((name, _hostvars, _groups),) = inventory_hosts(data, settings(host_naming="uuid"))
    assert name == UUID_1
    ((_name, _hostvars, groups),) = inventory_hosts(data, settings(group_prefix=""))
    assert groups == ["guests", "host_kvm01", "type_kvm", "state_running"]


def test_the_same_host_name_twice_is_an_error_naming_both():
    data = fetched({"uri": "qemu+ssh://kvm01/system", "hypervisor": "kvm01", "guests": [guest("web1", UUID_1)]},
                   {"uri": "qemu+ssh://kvm02/system", "hypervisor": "kvm02", "guests": [guest("web1", UUID_2)]})
    with pytest.raises(VirtLibvirtError) as caught:
        inventory_hosts(data, settings())
    text = str(caught.value)
    assert text.startswith("host_naming: ") and "qemu+ssh://kvm01/system" in text and "qemu+ssh://kvm02/system" in text
    assert "hypervisor_and_name" in text
    names = [name for name, _hostvars, _groups in inventory_hosts(data, settings(host_naming="hypervisor_and_name"))]
    assert names == ["kvm01_web1", "kvm02_web1"]


# -- the plugin file ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("file_name, accepted", [
    ("lab.libvirt_guests.yml", True), ("lab.libvirt_guests.yaml", True), ("libvirt_guests.yml", False),
    ("lab.libvirt.yml", False), ("lab.libvirt_guests.json", False),
])
def test_verify_file(tmp_path, file_name, accepted):
    path = tmp_path / file_name
    path.write_text("plugin: virt.libvirt.libvirt_guests\n")
    assert InventoryModule().verify_file(str(path)) is accepted


def test_verify_file_declines_a_missing_file(tmp_path):
    assert not InventoryModule().verify_file(str(tmp_path / "gone.libvirt_guests.yml"))

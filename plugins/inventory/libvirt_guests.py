# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: libvirt_guests
short_description: The guests of one or more libvirt hosts as Ansible hosts
version_added: 0.1.0
description:
  - Lists the guests (domains) of every URI in O(uris) as Ansible hosts, with their addresses from libvirt's
    DHCP leases and the QEMU guest agent, and host variables describing each guest.
  - "Every guest is put in these groups (with the default O(group_prefix=libvirt_)): C(libvirt_guests) (all of
    them), C(libvirt_host_<hypervisor>) (the host it is defined on), C(libvirt_type_<type>) (C(kvm), C(qemu),
    C(xen), C(test), ...) and C(libvirt_state_<state>) (C(running), C(paused), C(shutoff), ...). Group names
    are lower-case; characters other than letters, digits and C(_) become C(_), so the hypervisor
    C(kvm01.example.com) gives C(libvirt_host_kvm01_example_com)."
  - "Host variables: C(libvirt_name), C(libvirt_uuid), C(libvirt_id) (null when the guest is not running),
    C(libvirt_type), C(libvirt_os_type) (C(hvm), C(xen), C(linux), ...), C(libvirt_arch), C(libvirt_state),
    C(libvirt_persistent), C(libvirt_autostart), C(libvirt_memory_kib) (maximum memory),
    C(libvirt_current_memory_kib), C(libvirt_vcpu), C(libvirt_uri) (the URI from O(uris) the guest was
    found at, ready for the C(uri) option of M(virt.libvirt.domain)),
    C(libvirt_hypervisor), C(libvirt_addresses) (every address, each once, in the order described in
    O(address_sources)) and C(libvirt_interfaces) (one entry per NIC with C(mac), C(type), C(source) (the
    network, bridge or device), C(model), C(target) (the host-side device of a running guest) and
    C(addresses), each with C(address), C(prefix), C(family) and the C(source) it came from)."
  - C(ansible_host) is set from C(libvirt_addresses) as O(ansible_host_address) says; O(compose) can
    override it.
  - The configuration file's name must end in C(.libvirt_guests.yml) or C(.libvirt_guests.yaml).
  - The plugin only reads; it never changes a guest.
author:
  - virt.libvirt developers (!UNKNOWN)
requirements:
  - python >= 3.8
  - libvirt-python (the C(libvirt) Python module) and lxml on the Ansible controller
extends_documentation_fragment:
  - constructed
  - inventory_cache
notes:
  - Addresses exist only for guests that are running (or paused, from leases and ARP). A shut-off guest
    has no C(ansible_host) unless O(compose) gives one.
  - The lease source knows the guests on libvirt's own networks with DHCP (NAT, routed, isolated
    networks with a C(<dhcp>) range). Guests on a host bridge get their address from the agent or ARP.
  - The agent source needs C(qemu-guest-agent) running in the guest and a C(org.qemu.guest_agent.0)
    channel in its definition. A guest without one simply gets no addresses from this source; the reason is
    shown with C(-vvv).
  - "With O(cache=true) the guests are read again when the cache expires, when O(uris), O(read_only),
    O(states), O(include_names), O(exclude_names), O(address_sources) or O(hypervisor_naming) change, and
    on C(--flush-cache) or C(meta: refresh_inventory)."
seealso:
  - module: virt.libvirt.domain
  - name: libvirt's virDomainInterfaceAddresses
    description: Where the lease, agent and ARP addresses come from.
    link: https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainInterfaceAddresses
options:
  plugin:
    description: Marks the file as a configuration of this plugin.
    type: str
    required: true
    choices: [virt.libvirt.libvirt_guests]
  uris:
    description:
      - The libvirt URIs to list guests from, for example C(qemu:///system), C(qemu+ssh://root@kvm01/system),
        C(xen:///system) or C(test+unix:///default). Several URIs are read in parallel.
      - A URI that cannot be opened or read fails the inventory with libvirt's message and the URI, unless
        O(on_uri_error=warn).
    type: list
    elements: str
    default: [qemu:///system]
  read_only:
    description:
      - Open read-only connections. Unprivileged users may open C(qemu:///system) read-only where
        read-write needs root or polkit.
      - libvirt refuses the guest agent on read-only connections, so the V(agent) address source is
        skipped.
    type: bool
    default: false
  on_uri_error:
    description:
      - What a URI that cannot be opened or read does. V(fail) fails the inventory source (the default);
        V(warn) skips that URI with a warning and lists the guests of the others, for fleets where a host
        may be down.
    type: str
    choices: [fail, warn]
    default: fail
  states:
    description:
      - List only guests in these power states. By default guests in every state are listed.
    type: list
    elements: str
    choices: [nostate, running, blocked, paused, shutdown, shutoff, crashed, pmsuspended]
  include_names:
    description:
      - List only guests whose name matches one of these shell-style patterns (C(web-*), C(db?)), case
        sensitive. By default every guest is listed.
    type: list
    elements: str
  exclude_names:
    description: Leave out guests whose name matches one of these shell-style patterns.
    type: list
    elements: str
    default: []
  address_sources:
    description:
      - Where addresses come from, in priority order. V(lease) reads the DHCP leases of libvirt's
        networks, V(agent) asks the QEMU guest agent inside the guest, V(arp) reads the host's ARP table.
      - C(libvirt_addresses) holds the addresses of the first source first, then any other address the
        later sources add; within a source, NICs are taken in definition order. So with the default the
        DHCP lease wins over what the agent reports.
      - Only addresses on the guest's own NICs (matched by MAC) are kept; loopback, link-local, multicast and
        unspecified addresses never are.
      - An empty list reads no addresses at all.
    type: list
    elements: str
    choices: [lease, agent, arp]
    default: [lease, agent]
  ansible_host_address:
    description:
      - How C(ansible_host) is chosen from C(libvirt_addresses). V(prefer_ipv4) takes the first IPv4
        address, else the first IPv6 address; V(prefer_ipv6) the other way round; V(ipv4) and V(ipv6) only
        that family; V(none) never sets C(ansible_host) (for guests whose names resolve in DNS).
      - A guest without a usable address gets no C(ansible_host).
    type: str
    choices: [prefer_ipv4, prefer_ipv6, ipv4, ipv6, none]
    default: prefer_ipv4
  hypervisor_naming:
    description:
      - How the hypervisor of a URI is named, in C(libvirt_hypervisor), in its C(host) group and with
        O(host_naming=hypervisor_and_name).
      - V(uri) uses the host part of the URI (C(kvm01) in C(qemu+ssh://root@kvm01/system)), and the hostname
        libvirt reports for local URIs such as C(qemu:///system). V(libvirt) always uses the hostname libvirt
        reports, also for remote URIs given by address.
    type: str
    choices: [uri, libvirt]
    default: uri
  host_naming:
    description:
      - How a guest's inventory host is named. V(name) is the guest's name. V(hypervisor_and_name) is the
        hypervisor's name, O(host_name_separator) and the guest's name, for fleets where the same guest name
        exists on several hosts. V(uuid) is the guest's UUID.
      - Two guests that would get the same host name fail the inventory, naming both, rather than one
        hiding the other.
    type: str
    choices: [name, hypervisor_and_name, uuid]
    default: name
  host_name_separator:
    description: Joins the hypervisor and guest names with O(host_naming=hypervisor_and_name).
    type: str
    default: _
  group_prefix:
    description:
      - Prefix of the groups the plugin makes (C(<prefix>guests), C(<prefix>host_<hypervisor>),
        C(<prefix>type_<type>), C(<prefix>state_<state>)). Must be a valid group name prefix (letters,
        digits, C(_)).
    type: str
    default: libvirt_
"""

EXAMPLES = r"""
# inventory/local.libvirt_guests.yml: the guests of this host
plugin: virt.libvirt.libvirt_guests

# inventory/fleet.libvirt_guests.yml: three hypervisors, guest names may repeat across them
plugin: virt.libvirt.libvirt_guests
uris:
  - qemu+ssh://root@kvm01.example.com/system
  - qemu+ssh://root@kvm02.example.com/system
  - xen+ssh://root@xen01.example.com/system
host_naming: hypervisor_and_name
on_uri_error: warn          # a hypervisor that is down is skipped with a warning
states: [running, paused]
exclude_names: ["template-*"]
keyed_groups:
  - key: libvirt_os_type
    prefix: os
groups:
  big_guests: libvirt_memory_kib >= 8 * 1024 * 1024
compose:
  ansible_user: "'admin'"

# inventory/agent.libvirt_guests.yml: trust the guest agent first, fall back to leases and ARP;
# cache the answer for five minutes
plugin: virt.libvirt.libvirt_guests
address_sources: [agent, lease, arp]
ansible_host_address: prefer_ipv6
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/ansible-libvirt-guests
cache_timeout: 300

# A play over the guests that manages them on their hypervisor, e.g.
#   ansible-playbook -i inventory/fleet.libvirt_guests.yml grow.yml
# - hosts: libvirt_state_running:&libvirt_type_kvm
#   gather_facts: false
#   tasks:
#     - name: Give every running KVM guest 2 vCPUs (applied at its next restart)
#       virt.libvirt.domain:
#         uri: "{{ libvirt_uri }}"
#         name: "{{ libvirt_name }}"
#         vcpu: 2
#       delegate_to: localhost
"""

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.virt.libvirt.plugins.module_utils._errors import VirtLibvirtError
from ansible_collections.virt.libvirt.plugins.module_utils._guests_inventory import (
    InventorySettings, inventory_hosts, missing_libraries_message, read_guests,
)


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "virt.libvirt.libvirt_guests"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(
            (".libvirt_guests.yml", ".libvirt_guests.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        problem = missing_libraries_message()
        if problem:
            raise AnsibleParserError(problem)
        try:
            settings = InventorySettings({name: self.get_option(name) for name in InventorySettings.OPTION_NAMES})
            fetched = self._fetch(settings, self.get_cache_key(path), cache)
            for skipped in fetched["skipped"]:
                self.display.warning("virt.libvirt.libvirt_guests: skipped %s: %s"
                                     % (skipped["uri"], skipped["message"]))
            hosts = inventory_hosts(fetched, settings)
        except VirtLibvirtError as error:
            raise AnsibleParserError(str(error)) from None  # Ansible names the source file itself
        self._populate(hosts)

    def _fetch(self, settings, cache_key, cache):
        # Ansible's convention: cache=False (--flush-cache, refresh_inventory) reads anew and refreshes.
        use_cache = self.get_option("cache")
        if use_cache and cache:
            cached = self._cache.get(cache_key)
            if isinstance(cached, dict) and cached.get("settings") == settings.fetch_fingerprint():
                return cached
        fetched = read_guests(settings, log=self.display.vvv)
        if use_cache:
            self._cache[cache_key] = fetched
        return fetched

    def _populate(self, hosts):
        strict = self.get_option("strict")
        for host, variables, groups in hosts:
            self.inventory.add_host(host)
            for name, value in variables.items():
                self.inventory.set_variable(host, name, value)
            for group in groups:
                self.inventory.add_child(self.inventory.add_group(group), host)
            host_vars = self.inventory.get_host(host).get_vars()
            self._set_composite_vars(self.get_option("compose"), host_vars, host, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), host_vars, host, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), host_vars, host, strict=strict)

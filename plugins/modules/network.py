#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: network
short_description: Declare libvirt virtual networks (NAT, routed, open, isolated, host bridge) and converge them
version_added: 0.1.0
description:
  - Defines, changes, starts, stops and undefines libvirt virtual networks in one declarative task - the
    C(default) NAT network, isolated lab networks, routed and open networks, networks that put guests on an
    existing host bridge, and static DHCP leases for guests.
  - A network is declared with structured options, with a full network document in O(xml), or both; the
    structured options win over the document.
  - The declared network is compared with the network's persistent definition field by field after
    normalisation (address spelling, MAC case, UUID dashes, C(prefix) against C(netmask), the defaults
    libvirt adds), never as text. Options that are not given are not compared, and everything the module
    does not model (DNS records, routes, port groups, bandwidth, metadata, dnsmasq options) is kept as it
    is - so an existing network such as C(default) is adopted without being rewritten.
  - O(ips) is the whole list of the network's addresses; an address is matched by O(ips[].address).
    Within a matched address, O(ips[].dhcp.ranges) and O(ips[].dhcp.hosts) are each the whole list when
    given and kept when omitted.
  - Static DHCP hosts of an active network are added, changed and removed live with libvirt's network
    update API (C(virsh net-update)); dnsmasq re-reads its hosts file and neither the bridge nor the guests
    on it notice. Every other change to an active network is written to its definition and reported as
    RV(restart_required=true); with O(restart=true) the network is stopped and started again.
  - Stopping, restarting or removing a network whose bridge libvirt makes (forward mode nat, route, open or none)
    cuts its running guests off - libvirt deletes the bridge, and does not plug them into the new one. The module
    names those guests (RV(guests) and a warning), and whenever the network starts again (a restart, or a later
    start) it plugs their interfaces into the new bridge with two live updates of each guest (RV(replugged)); an
    interface it cannot plug in is in RV(unplugged) with the reason, and warned about.
  - Every input error (an address that is not inside its own prefix, a DHCP range or static host outside
    the subnet, a duplicate MAC, name or address, an unknown forward mode, a bridge name longer than the
    kernel allows, options a host-bridge network cannot have) fails the task naming the option, before
    anything on the host is changed.
  - The bulk form O(networks) converges many networks over one connection in one task.
author:
  - virt.libvirt developers (!UNKNOWN)
extends_documentation_fragment:
  - virt.libvirt.connection
attributes:
  check_mode:
    support: full
    description: Reports what would change, including live host updates, start, stop and restart, and changes nothing.
  diff_mode:
    support: full
    description: Returns the persistent definition before and after.
  idempotent:
    support: full
    description: A second identical run reports no change, whatever defaults libvirt added.
options:
  name:
    description:
      - Name of the network. Must not contain C(/).
      - Required unless O(networks) is given.
    type: str
  networks:
    description:
      - Bulk form. A list of networks, each a dictionary taking the same options as the single form (O(name)
        required in each, O(uri) and O(stop_on_error) only at task level), checked like them. Task-level
        O(state), O(autostart) and O(restart) apply to items that do not set them.
      - Mutually exclusive with O(name). One connection; every item is converged and reported in
        RV(results); a failing item does not stop the others unless O(stop_on_error=true), and the task
        fails at the end naming every failed item.
    type: list
    elements: dict
  stop_on_error:
    description: With O(networks), stop at the first item that fails.
    type: bool
    default: false
  state:
    description:
      - V(present) defines the network and leaves it running or stopped as it is.
      - V(active) defines and starts it (libvirt creates the bridge and starts dnsmasq).
      - V(inactive) defines it and stops it; guests on it lose their connection.
      - V(absent) stops and undefines it. The network's other options may come along (the same declaration
        with only its state changed); they are checked as for any other state, and a bad one fails the task
        before anything is removed.
      - A new network that cannot be started (for example because its subnet is in use) is undefined again,
        so the failed task leaves nothing behind.
    type: str
    default: present
    choices: [present, active, inactive, absent]
  autostart:
    description: Whether the network starts when the host boots. Not changed when omitted.
    type: bool
  restart:
    description:
      - When an active network's definition differs from what runs (other than static DHCP hosts, which
        are applied live), stop and start it so the change takes effect.
      - Guests attached to the network lose their link to it when it stops; libvirt does not plug their
        interfaces back in. Restart or re-attach them afterwards.
    type: bool
    default: false
  xml:
    description:
      - A full C(<network>) document used as the base of the declared network, for what the structured
        options do not cover (DNS records, routes, port groups, QoS, TFTP/BOOTP, dnsmasq options).
      - Its addresses, forward mode and DHCP hosts count as declared. On an existing network, other
        elements are added or replaced when the definition does not already hold them; runtime data
        (C(connections)) is ignored.
    type: str
  uuid:
    description: The network's UUID, with or without dashes. The UUID of an existing network cannot change.
    type: str
  bridge:
    description:
      - The bridge. libvirt creates it for the modes V(nat), V(route), V(open) and V(none), and picks a free
        C(virbrN) name when O(bridge.name) is omitted.
      - With O(forward.mode=bridge), O(bridge.name) is an existing host bridge the guests are plugged into.
    type: dict
    suboptions:
      name:
        description: The bridge device, at most 15 characters (the kernel's IFNAMSIZ), no C(/), C(:) or spaces.
        type: str
      stp:
        description: Spanning tree protocol on the bridge libvirt creates.
        type: bool
      delay:
        description: Forward delay of the bridge libvirt creates, in seconds.
        type: int
  forward:
    description: How the network reaches the rest of the world.
    type: dict
    suboptions:
      mode:
        description:
          - V(nat) masquerades guests behind the host (the C(default) network), V(route) routes the subnet
            without NAT, V(open) adds no firewall rules at all, V(none) is an isolated network (guests and
            host only; no C(<forward>)).
          - V(bridge) puts guests on an existing host bridge (O(bridge.name)) or on a host interface by
            macvtap (O(forward.dev)); libvirt manages no addresses, DHCP or DNS there.
          - V(private), V(vepa), V(passthrough) and V(hostdev) are macvtap and SR-IOV modes on a host interface.
        type: str
        choices: [nat, route, open, bridge, private, vepa, passthrough, hostdev, none]
      dev:
        description:
          - The host interface traffic leaves through (V(nat), V(route)) or the interface guests attach to
            (macvtap modes). An empty string removes it.
        type: str
  domain:
    description:
      - The DNS domain of the network (C(<domain name=...>)); dnsmasq answers for C(<guest>.<domain>). An
        empty string removes it.
    type: str
  mtu:
    description: MTU of the bridge (68-65535).
    type: int
  mac:
    description: MAC address of the bridge libvirt creates (unicast). libvirt generates one when omitted.
    type: str
  ips:
    description:
      - The addresses of the host on the network, one per subnet, IPv4 and IPv6. The list is the whole set -
        addresses not listed are removed; omit O(ips) to keep them.
      - libvirt serves DHCP on at most one IPv4 and one IPv6 address of a network.
    type: list
    elements: dict
    suboptions:
      address:
        description: The host's address on the bridge, for example V(192.168.122.1) or V(fd00:231::1).
        type: str
        required: true
      prefix:
        description:
          - Prefix length, for example V(24) or V(64). Without O(ips[].prefix) and O(ips[].netmask) libvirt
            uses the class of an IPv4 address and 64 for IPv6.
        type: int
      netmask:
        description: IPv4 only, instead of O(ips[].prefix), for example V(255.255.255.0).
        type: str
      family:
        description: V(ipv4) or V(ipv6); taken from the address when omitted.
        type: str
        choices: [ipv4, ipv6]
      dhcp:
        description: DHCP on this address (dnsmasq).
        type: dict
        suboptions:
          enabled:
            description: V(false) removes DHCP from the address (all ranges and static hosts).
            type: bool
            default: true
          range:
            description: The one range of addresses handed out (use O(ips[].dhcp.ranges) for several).
            type: dict
            suboptions:
              start:
                description: First address of the range, inside the subnet.
                type: str
                required: true
              end:
                description: Last address of the range, inside the subnet.
                type: str
                required: true
          ranges:
            description: The ranges handed out, the whole list. Changing ranges needs a restart of the network.
            type: list
            elements: dict
            suboptions:
              start:
                description: First address of the range, inside the subnet.
                type: str
                required: true
              end:
                description: Last address of the range, inside the subnet.
                type: str
                required: true
          hosts:
            description:
              - Static leases, the whole list. On an active network they are changed live.
              - An IPv4 lease is matched by O(ips[].dhcp.hosts[].mac) (or by name); an IPv6 lease by
                O(ips[].dhcp.hosts[].id) (DUID) or name.
            type: list
            elements: dict
            suboptions:
              mac:
                description: The guest interface's MAC address (IPv4 only).
                type: str
              id:
                description: The client's DHCPv6 DUID, for example V(0:3:0:1:52:54:0:12:34:56) (IPv6 only).
                type: str
              name:
                description: Host name given to the guest and answered by the network's DNS.
                type: str
              ip:
                description: The address the guest gets, inside the subnet.
                type: str
                required: true
notes:
  - Supports C(check_mode) and C(diff_mode). Use the action group C(virt.libvirt.libvirt) in
    C(module_defaults) to set O(uri) once.
  - dnsmasq's files are in C(/var/lib/libvirt/dnsmasq/<network>.*); the leases guests took are in
    C(virsh net-dhcp-leases <network>).
seealso:
  - module: virt.libvirt.domain
  - name: libvirt network XML format
    description: The reference of the document O(xml) takes.
    link: https://libvirt.org/formatnetwork.html
"""

EXAMPLES = r"""
- name: The default NAT network, adopted as it is, running and started at boot
  virt.libvirt.network:
    name: default
    state: active
    autostart: true

- name: The default NAT network declared in full, with static leases for two guests
  virt.libvirt.network:
    name: default
    state: active
    autostart: true
    bridge: {name: virbr0, stp: true, delay: 0}
    forward: {mode: nat}
    ips:
      - address: 192.168.122.1
        netmask: 255.255.255.0
        dhcp:
          range: {start: 192.168.122.2, end: 192.168.122.254}
          hosts:
            - {mac: "52:54:00:6c:3c:01", name: web1, ip: 192.168.122.11}
            - {mac: "52:54:00:6c:3c:02", name: web2, ip: 192.168.122.12}

- name: An isolated lab network (guests and host only), IPv4 and IPv6 with DHCP
  virt.libvirt.network:
    name: lab
    state: active
    bridge: {name: virbr-lab}
    forward: {mode: none}
    domain: lab.example
    ips:
      - address: 10.10.0.1
        prefix: 24
        dhcp:
          range: {start: 10.10.0.100, end: 10.10.0.199}
      - address: fd00:10:10::1
        family: ipv6
        prefix: 64
        dhcp:
          range: {start: "fd00:10:10::100", end: "fd00:10:10::1ff"}
          hosts:
            - {id: "0:3:0:1:52:54:0:10:10:5", name: db1, ip: "fd00:10:10::5"}

- name: A routed network (no NAT) out through eth1; the LAN routes 10.20.0.0/24 to this host
  virt.libvirt.network:
    name: routed
    state: active
    forward: {mode: route, dev: eth1}
    ips:
      - address: 10.20.0.1
        prefix: 24
        dhcp:
          range: {start: 10.20.0.10, end: 10.20.0.250}

- name: Give a guest a fixed address on the running default network, live (no restart)
  virt.libvirt.network:
    name: default
    ips:
      - address: 192.168.122.1
        dhcp:
          hosts:
            - {mac: "52:54:00:6c:3c:01", name: web1, ip: 192.168.122.11}
            - {mac: "52:54:00:6c:3c:03", name: web3, ip: 192.168.122.13}

- name: Guests straight on the LAN through the existing host bridge br0
  virt.libvirt.network:
    name: lan
    state: active
    autostart: true
    forward: {mode: bridge}
    bridge: {name: br0}

- name: Move a network to another subnet and restart it now
  virt.libvirt.network:
    name: lab
    ips:
      - address: 10.11.0.1
        prefix: 24
        dhcp:
          range: {start: 10.11.0.100, end: 10.11.0.199}
    restart: true

- name: DNS records and routes from XML, with structured options on top
  virt.libvirt.network:
    name: services
    xml: "{{ lookup('ansible.builtin.file', 'services-net.xml') }}"
    state: active
    autostart: true

- name: Every network of the host in one task
  virt.libvirt.network:
    state: active
    autostart: true
    networks:
      - {name: lab-a, forward: {mode: none}, ips: [{address: 10.30.1.1, prefix: 24}]}
      - {name: lab-b, forward: {mode: nat}, ips: [{address: 10.30.2.1, prefix: 24,
                                                  dhcp: {range: {start: 10.30.2.10, end: 10.30.2.99}}}]}

- name: Remove a network
  virt.libvirt.network:
    name: lab
    state: absent
"""

RETURN = r"""
changed:
  description: Whether anything changed (or would change, in check mode).
  returned: always
  type: bool
changes:
  description:
    - The names of the fields that changed, for example C(forward.mode), C(ips[10.0.0.1].dhcp.ranges),
      C(ips[10.0.0.1].dhcp.hosts[52:54:00:12:34:56]), C(state), C(autostart).
    - A C( (live)) suffix marks a static host that only the running network lacked.
  returned: single form
  type: list
  elements: str
  sample: ["ips[10.231.1.1].dhcp.hosts[52:54:00:12:34:56]", state]
differences:
  description: Each change with its value before and after.
  returned: single form
  type: list
  elements: dict
  sample: [{field: "ips[10.231.1.1].dhcp.hosts[52:54:00:12:34:56]", before: null,
            after: "mac=52:54:00:12:34:56 name=web1 ip=10.231.1.11"}]
restart_required:
  description:
    - Single form - whether the active network runs with a configuration that differs from its definition
      in more than static DHCP hosts, so that it must restart (O(restart=true)) for the change to take effect.
    - Bulk form - the names of the networks that must restart.
  returned: always
  type: raw
live_updates:
  description: The static DHCP host updates made (or that would be made) on the running network, in order.
  returned: single form
  type: list
  elements: dict
  sample: [{command: add, ip: 10.231.1.1, host: "mac=52:54:00:12:34:56 name=web1 ip=10.231.1.11"}]
guests:
  description:
    - The running guests with an interface on the network (type V(network) naming it, or type V(bridge) on its
      bridge) when the task stopped, restarted, removed or started it (or would, in check mode).
  returned: single form
  type: list
  elements: str
  sample: [web1, web2]
replugged:
  description: The guests' interfaces plugged into the network's new bridge after it started (in check mode, that would be).
  returned: single form
  type: list
  elements: dict
  contains:
    guest: {description: The guest's name., type: str, returned: always}
    mac: {description: The interface's MAC address., type: str, returned: always}
  sample: [{guest: web1, mac: "52:54:00:4a:6a:23"}]
unplugged:
  description:
    - The guests' interfaces that could not be plugged in again, each with the C(reason); restarting the guest plugs
      them in.
  returned: single form
  type: list
  elements: dict
  contains:
    guest: {description: The guest's name., type: str, returned: always}
    mac: {description: The interface's MAC address., type: str, returned: always}
    reason: {description: What went wrong., type: str, returned: always}
network:
  description: The network after the task (in check mode, as it would be).
  returned: single form
  type: dict
  contains:
    name: {description: Name., type: str, returned: always}
    uuid: {description: UUID (null for a network check mode would create)., type: str, returned: when defined}
    active: {description: Whether the network is running., type: bool, returned: always}
    autostart: {description: Autostart flag., type: bool, returned: when defined}
    persistent: {description: Whether the network has a persistent definition., type: bool, returned: always}
    bridge: {description: The bridge device of the network., type: str, returned: when defined}
    xml: {description: The persistent definition., type: str, returned: when defined}
results:
  description:
    - Bulk form - one entry per item of O(networks), with its own C(name), C(changed), C(changes),
      C(restart_required), C(live_updates), C(guests), C(replugged), C(unplugged), C(failed), C(msg) and
      C(network).
    - When the task fails, C(network.xml) is left out of every entry, so that the messages stay readable.
  returned: bulk form
  type: list
  elements: dict
"""

from ansible_collections.virt.libvirt.plugins.module_utils._module import run_module_main
from ansible_collections.virt.libvirt.plugins.module_utils._network import (
    NETWORK_MUTUALLY_EXCLUSIVE, NETWORK_REQUIRED_ONE_OF, network_argument_spec, run_network_module,
)


def main():
    run_module_main(lambda module: run_network_module(module.params, module.check_mode, module._diff),
                    network_argument_spec(),
                    mutually_exclusive=NETWORK_MUTUALLY_EXCLUSIVE, required_one_of=NETWORK_REQUIRED_ONE_OF)


if __name__ == "__main__":
    main()

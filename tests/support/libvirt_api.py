"""The real libvirt binding for tests, and the host's IPv4 subnets, so a test network never overlaps one."""
from __future__ import annotations

import ipaddress
import random
import subprocess


def libvirt_binding():
    """The libvirt module, built against the local daemon, with its default stderr error printer silenced."""
    import libvirt  # pylint: disable=import-outside-toplevel  # only tests that reach a daemon need it

    libvirt.registerErrorHandler(lambda *_: None, None)
    return libvirt


def used_ipv4_subnets(uri):
    """Every IPv4 subnet a libvirt network of ``uri`` (defined or running) or a host interface is on."""
    libvirt = libvirt_binding()
    from ansible_collections.virt.libvirt.plugins.module_utils._network_model import Network  # pylint: disable=import-outside-toplevel

    used = []
    connection = libvirt.open(uri)
    try:
        for network in connection.listAllNetworks():
            try:
                model = Network.from_xml(network.XMLDesc(0))
            except libvirt.libvirtError:
                continue  # removed meanwhile by another test
            used.extend(ip.subnet for ip in model.ips if ip.subnet is not None and ip.subnet.version == 4)
    finally:
        connection.close()
    addresses = subprocess.run(["ip", "-o", "-4", "addr", "show"], capture_output=True, text=True, check=False).stdout
    used.extend(ipaddress.ip_interface(line.split()[3]).network for line in addresses.splitlines())
    return used


def free_subnets(uri, sixteen, count):
    """``count`` random /24 networks of ``sixteen`` (a /16 such as "10.231") that nothing on the host overlaps."""
    used = used_ipv4_subnets(uri)
    candidates = [ipaddress.ip_network("%s.%d.0/24" % (sixteen, octet)) for octet in range(256)]
    return random.sample([subnet for subnet in candidates if not any(subnet.overlaps(other) for other in used)],
                         count)

# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is internal to virt.libvirt and may change without notice.
"""What a libvirt host can virtualize, as facts: the logic behind virt.libvirt.capabilities_facts."""
from __future__ import annotations

from ansible_collections.virt.libvirt.plugins.module_utils._capabilities_model import (
    Capabilities, DomainCapabilities,
)
from ansible_collections.virt.libvirt.plugins.module_utils._connection import (
    CONNECTION_ARGUMENT_SPEC, LibvirtConnection, libvirt, translate_libvirt_errors,
)
from ansible_collections.virt.libvirt.plugins.module_utils._domain_model import DOMAIN_TYPES
from ansible_collections.virt.libvirt.plugins.module_utils._errors import InputError

FACT_NAME = "libvirt_capabilities"

_DOMAIN_CAPABILITIES_SPEC = {
    "arch": {"type": "str"},
    "virttype": {"type": "str", "choices": list(DOMAIN_TYPES)},
    "machine": {"type": "str"},
    "emulator": {"type": "str"},
}


def capabilities_argument_spec():
    spec = dict(CONNECTION_ARGUMENT_SPEC)
    spec["read_only"] = {"type": "bool", "default": False}
    spec["domain_capabilities"] = {"type": "dict", "options": _DOMAIN_CAPABILITIES_SPEC}
    return spec


# -- facts from the models (no libvirt needed; unit-tested on libvirt's own documents) -------------
def version_string(number):
    """libvirt's encoded version (major * 1000000 + minor * 1000 + release) as "7.2.0"; None for 0,
    which drivers return when they do not know the hypervisor's version."""
    if not number:
        return None
    return "%d.%d.%d" % (number // 1000000, number // 1000 % 1000, number % 1000)


def _machine_facts(entries):
    return [{"name": machine.name, "canonical": machine.canonical, "max_cpus": machine.max_cpus,
             "deprecated": bool(machine.deprecated is True)} for machine in entries]


def _aliases(entries):
    return {machine.name: machine.canonical for machine in entries if machine.canonical}


def guest_facts(guest):
    entries = guest.machine_entries
    overrides = {}
    for domain in guest.domains:
        domain_entries = domain.machine_entries
        if domain.emulator or domain_entries:
            overrides[domain.type] = {
                "emulator": domain.emulator, "machines": domain.machines,
                "machine_aliases": _aliases(domain_entries),
            }
    settings = {}
    for feature in guest.feature_entries:
        if feature.default is not None or feature.toggle is not None:
            settings[feature.name] = {"default": feature.default, "toggle": feature.toggle}
    return {
        "os_type": guest.os_type,
        "arch": guest.arch,
        "wordsize": guest.wordsize,
        "domain_types": guest.domain_types,
        "emulator": guest.emulator,
        "loader": guest.loader,
        "machines": guest.machines,
        "machine_aliases": _aliases(entries),
        "machine_details": _machine_facts(entries),
        "features": guest.features or [],
        "feature_settings": settings,
        "domain_type_overrides": overrides,
    }


def host_facts(host):
    cells = host.numa_cells
    return {
        "arch": host.arch,
        "uuid": host.uuid,
        "cpu_model": host.cpu_model,
        "cpu_vendor": host.cpu_vendor,
        "cpu_microcode": host.cpu_microcode,
        "cpu_features": host.cpu_features,
        "cpu_topology": host.cpu_topology,
        "cpu_address_bits": host.cpu_address_bits,
        "page_sizes_kib": host.page_sizes,
        "numa_cells": host.numa_cell_count if host.numa_cell_count is not None else (len(cells) or None),
        "numa_topology": [{
            "id": cell.id,
            "memory_kib": cell.memory,
            "cpus": cell.cpus,
            "pages": [{"size_kib": pool.size, "count": pool.count} for pool in cell.page_pools],
            "distances": [{"id": sibling.id, "value": sibling.value} for sibling in cell.distances],
        } for cell in cells],
        "cache_banks": [{"id": bank.id, "level": bank.level, "type": bank.type, "size_kib": bank.size,
                         "cpus": bank.cpus} for bank in host.cache_banks],
        "security_models": [{
            "model": model.model, "doi": model.doi,
            "base_labels": {label.type: label.label for label in model.base_labels},
        } for model in host.security_models],
        "power_management": host.power_management,
        "iommu": host.iommu,
        "migration": {"live": host.live_migration, "uri_transports": host.migration_transports},
    }


def capabilities_facts(capabilities):
    """The facts derived from a capabilities document alone."""
    return {
        "host": host_facts(capabilities.host),
        "guests": [guest_facts(guest) for guest in capabilities.guests],
        "hvm": capabilities.hvm,
        "paravirt": capabilities.paravirt,
        "pvh": capabilities.pvh,
        "kvm": capabilities.kvm,
        "guest_arches": capabilities.guest_arches,
        "hvm_arches": capabilities.arches_of(os_type="hvm"),
        "paravirt_arches": capabilities.arches_of(os_type="xen"),
        "kvm_arches": capabilities.arches_of(domain_type="kvm"),
        "domain_types": capabilities.domain_types,
    }


def domain_capabilities_facts(domain_capabilities):
    document = domain_capabilities
    os_block = document.os
    memory_backing = document.memory_backing
    return {
        "emulator": document.emulator,
        "domain_type": document.domain_type,
        "machine": document.machine,
        "arch": document.arch,
        "vcpu_max": document.vcpu_max,
        "iothreads": document.iothreads,
        "os": os_block.as_dict() if os_block is not None else None,
        "cpu_modes": {mode.name: mode.as_dict() for mode in document.cpu_modes},
        "memory_backing": memory_backing.as_dict() if memory_backing is not None else None,
        "devices": {block.tag: block.as_dict() for block in document.devices},
        "features": {block.tag: block.as_dict() for block in document.features},
        "firmware": document.firmware,
        "loaders": document.loaders,
        "loader_types": document.loader_types,
        "disk_devices": document.disk_devices,
        "disk_buses": document.disk_buses,
        "disk_models": document.disk_models,
        "graphics_types": document.graphics_types,
        "video_models": document.video_models,
        "hostdev_subsystem_types": document.hostdev_subsystem_types,
        "supported_cpu_modes": document.supported_cpu_modes,
        "usable_cpu_models": document.usable_cpu_models,
    }


# -- gathering from libvirt ---------------------------------------------------------------------
def _optional_call(connection, action, function, *args):
    """A call some drivers do not implement: None when libvirt says it is not supported."""
    with translate_libvirt_errors(action, uri=connection.uri):
        try:
            return function(*args)
        except libvirt.libvirtError as error:
            if error.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT:
                return None
            raise


def _node_facts(connection):
    # virNodeGetInfo: [cpu model, memory MiB, active CPUs, MHz, NUMA nodes, sockets/node, cores, threads]
    info = _optional_call(connection, "reading the host's CPU and memory (virNodeGetInfo)", connection.conn.getInfo)
    if not info:
        return {"memory_mib": None, "cpus": None, "cpu_mhz": None}, None
    return {"memory_mib": info[1], "cpus": info[2], "cpu_mhz": info[3]}, info[4]


def gather_domain_capabilities(connection, capabilities, request):
    arch = request.get("arch") or capabilities.host_arch
    if not arch:
        raise InputError("libvirt reports no host architecture; set domain_capabilities.arch",
                         option="domain_capabilities.arch")
    if request.get("virttype"):
        virttypes = [request["virttype"]]
    else:
        virttypes = capabilities.domain_types_for(arch)
        if not virttypes:
            raise InputError("the host offers no guests of architecture %r; it offers: %s"
                             % (arch, ", ".join(capabilities.guest_arches) or "none"),
                             option="domain_capabilities.arch")
    gathered = {}
    for virttype in virttypes:
        action = "reading the domain capabilities (virttype %s, arch %s%s%s)" % (
            virttype, arch,
            ", machine %s" % request["machine"] if request.get("machine") else "",
            ", emulator %s" % request["emulator"] if request.get("emulator") else "")
        with translate_libvirt_errors(action, option="domain_capabilities", uri=connection.uri):
            xml = connection.conn.getDomainCapabilities(request.get("emulator"), arch, request.get("machine"),
                                                        virttype, 0)
        document = DomainCapabilities.from_xml(xml, option="domain_capabilities")
        gathered[virttype] = domain_capabilities_facts(document)
    return gathered


def gather_facts(connection, domain_capabilities_request=None):
    conn = connection.conn
    xml = connection.call("reading the host capabilities", conn.getCapabilities)
    capabilities = Capabilities.from_xml(xml, option="capabilities")
    facts = capabilities_facts(capabilities)
    node, node_count = _node_facts(connection)
    facts["host"].update(node)
    if facts["host"]["numa_cells"] is None:
        facts["host"]["numa_cells"] = node_count
    hypervisor_version = _optional_call(connection, "reading the hypervisor version", conn.getVersion)
    library_version = _optional_call(connection, "reading the libvirt version", conn.getLibVersion)
    facts.update({
        "uri": connection.call("reading the connection URI", conn.getURI),
        "hostname": _optional_call(connection, "reading the host name", conn.getHostname),
        "libvirt_version": version_string(library_version),
        "hypervisor": {
            "name": connection.driver_name(),
            "version": version_string(hypervisor_version),
            "version_number": hypervisor_version or None,
        },
    })
    if domain_capabilities_request is not None:
        facts["domain_capabilities"] = gather_domain_capabilities(connection, capabilities,
                                                                  domain_capabilities_request)
    return facts


def run_capabilities_facts_module(params):
    """Gather the facts; never changes anything, so check mode needs nothing special."""
    request = params.get("domain_capabilities")
    if params.get("read_only") and request is not None:
        raise InputError("cannot be used with domain_capabilities: libvirt refuses domain capabilities on "
                         "a read-only connection", option="read_only")
    with LibvirtConnection(params.get("uri"), read_only=bool(params.get("read_only"))) as connection:
        facts = gather_facts(connection, request)
    return {"changed": False, "ansible_facts": {FACT_NAME: facts}}

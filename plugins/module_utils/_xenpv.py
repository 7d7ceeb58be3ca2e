# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is internal to virt.libvirt and may change without notice.
"""The logic behind virt.libvirt.xenpv_drivers: gather the host's facts, then apply _xenpv_rules.

Read-only: the release file, the machine architecture, the RPM database (``rpm -q``) and the named
guests' persistent definitions. Installing is the xenpv_win role's job.

The facts come from a *host*: ModuleHost when the module runs on the host (Python, module.run_command
and a read-only libvirt connection), _xenpv_raw.CommandHost when the action plugin gathers them with
plain commands over Ansible's connection, for hosts that cannot run the module (RHEL 5 has Python 2.4).
check_xenpv_host turns either host's answers into the same result.
"""
from __future__ import annotations

import os
import platform
import re

from ansible_collections.virt.libvirt.plugins.module_utils import _xenpv_rules as rules
from ansible_collections.virt.libvirt.plugins.module_utils._connection import (
    CONNECTION_ARGUMENT_SPEC, LibvirtConnection, is_libvirt_error, libvirt, libvirt_error_text,
)
from ansible_collections.virt.libvirt.plugins.module_utils._domain_model import Domain
from ansible_collections.virt.libvirt.plugins.module_utils._errors import InputError, VirtLibvirtError

# Mirrored by the DOCUMENTATION of plugins/modules/xenpv_drivers.py.
GUEST_SPEC = {
    "name": {"type": "str"},
    "os": {"type": "str", "required": True},
    "arch": {"type": "int", "choices": [32, 64]},
    "free_space_mb": {"type": "int"},
}


def xenpv_argument_spec():
    spec = dict(CONNECTION_ARGUMENT_SPEC)
    spec.update({
        "guests": {"type": "list", "elements": "dict", "default": [], "options": GUEST_SPEC},
        "debug": {"type": "bool", "default": False},
        "release_file": {"type": "path", "default": "/etc/redhat-release"},
        "host_arch": {"type": "str"},
        "accept_rebuilds": {"type": "bool", "default": False},
        "package_names": {"type": "dict", "default": {}},
        "installroot": {"type": "path", "default": "/"},
        "fail_on_problems": {"type": "bool", "default": True},
        # Read by the action plugin (plugins/action/xenpv_drivers.py); the module only reports it.
        "gather": {"type": "str", "choices": ["auto", "module", "raw"], "default": "auto"},
    })
    return spec


def required_libraries(params):
    """lxml always (the domain model); libvirt-python only when a named guest must be read."""
    if any((guest or {}).get("name") for guest in params.get("guests") or []):
        return ("lxml", "libvirt")
    return ("lxml",)


# A leading "-" would reach rpm as an option (rpm --pipe runs a shell command).
_PACKAGE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._+-]*$")


def package_name_map(names):
    """Red Hat's package names mapped to the repository's own (identity unless overridden)."""
    mapping = dict((name, name) for name in rules.SEED_PACKAGES)
    for seed_name, own_name in (names or {}).items():
        option = "package_names.%s" % seed_name
        if seed_name not in rules.SEED_PACKAGES:
            raise InputError("%r is not one of Red Hat's xenpv-win package names (%s)"
                             % (seed_name, ", ".join(rules.SEED_PACKAGES)), option="package_names")
        if not isinstance(own_name, str) or not _PACKAGE_NAME.match(own_name):
            raise InputError("must be a package name (letters, digits, '.', '_', '+', '-', not starting with '-'), "
                             "got %r" % (own_name,),
                             option=option)
        mapping[seed_name] = own_name
    own_names = list(mapping.values())
    duplicates = sorted(set(name for name in own_names if own_names.count(name) > 1))
    if duplicates:
        raise InputError("two of Red Hat's package names map to the same package %r" % duplicates[0],
                         option="package_names")
    return mapping


# How much of the release file is read; its first line is all the rules need.
RELEASE_READ_LIMIT = 4096


class ModuleHost:
    """The host the module runs on: read with Python, rpm through module.run_command, the guests over a
    read-only libvirt connection. _xenpv_raw.CommandHost answers the same questions with plain commands."""

    def __init__(self, module):
        self.module = module

    def is_directory(self, path):
        return os.path.isdir(path)

    def read_release(self, path):
        """The release file's text, or (None, why) when it cannot be read."""
        try:
            with open(path, encoding="utf-8", errors="replace") as stream:
                return stream.read(RELEASE_READ_LIMIT), None
        except (IOError, OSError) as error:
            return None, error.strerror or str(error)

    def machine(self):
        return platform.machine()

    def is_root(self):
        return os.geteuid() == 0

    def find_rpm(self):
        return self.module.get_bin_path("rpm")

    def run(self, argv):
        return self.module.run_command(argv)

    def read_definitions(self, uri, names):
        """The persistent definition (XML) of each named guest, and why the missing ones could not be read."""
        documents, lookup_errors = {}, {}
        with LibvirtConnection(uri, read_only=True) as connection:
            for name in names:
                try:
                    domain = connection.conn.lookupByName(name)
                except libvirt.libvirtError as error:
                    if not is_libvirt_error(error, libvirt.VIR_ERR_NO_DOMAIN):
                        raise VirtLibvirtError("looking up the guest %s failed: %s" % (name, libvirt_error_text(error)),
                                               option="guests", libvirt_message=libvirt_error_text(error)) from None
                    lookup_errors[name] = missing_guest_message(name, connection.uri)
                    continue
                documents[name] = connection.call("reading the definition of %s" % name, domain.XMLDesc,
                                                  libvirt.VIR_DOMAIN_XML_INACTIVE)
        return documents, lookup_errors


def missing_guest_message(name, uri):
    return "no domain named %r at %s" % (name, uri)


class PackageDatabase:
    """The host's RPM database, queried with ``rpm`` through the host's command runner."""

    # %{EPOCH}, not %{EPOCHNUM}: RHEL 5's rpm 4.4 has no EPOCHNUM; a package without an epoch reads "(none)".
    _QUERY_FORMAT = "%{NAME}\t%{EPOCH}:%{VERSION}-%{RELEASE}.%{ARCH}\n"

    def __init__(self, host, installroot):
        self.host = host
        self.installroot = installroot or "/"
        self.rpm = host.find_rpm()

    def _command(self, *arguments):
        command = [self.rpm]
        if self.installroot != "/":
            command += ["--root", self.installroot]
        return command + list(arguments)

    def query(self, names):
        """``{name: version}`` of the installed ``names``; raises VirtLibvirtError when rpm fails."""
        rc, stdout, stderr = self.host.run(self._command("-q", "--qf", self._QUERY_FORMAT, "--") + list(names))
        installed, not_installed = {}, []
        for line in stdout.splitlines():
            if "\t" in line:
                name, version = line.split("\t", 1)
                if version.startswith("(none):"):
                    version = "0:" + version[len("(none):"):]
                installed[name] = version
            elif line.strip().endswith("is not installed"):
                not_installed.append(line)
        errors = [line for line in (stderr or "").splitlines() if line.startswith("error:")]
        if errors or (rc != 0 and len(not_installed) != rc):
            # rpm's exit code counts the names not installed; a database it cannot open is reported on
            # stderr while every name still reads "not installed".
            raise VirtLibvirtError("querying the package database with rpm failed (rc=%d): %s"
                                   % (rc, " ".join(errors) or (stderr or stdout).strip()), option="installroot")
        return installed

    def media(self, name):
        """The first ISO image the installed package ``name`` carries (its driver media), on the host."""
        rc, stdout, _stderr = self.host.run(self._command("-ql", "--", name))
        if rc != 0:
            return None
        for path in stdout.splitlines():
            if path.lower().endswith(".iso"):
                return os.path.join(self.installroot, path.lstrip("/")) if self.installroot != "/" else path
        return None


def _mapped(names, mapping):
    return [mapping[name] for name in names]


def check_input(params):
    """Bad input, refused before the host is asked anything: the normalised guests and the package names."""
    for index, guest in enumerate(params.get("guests") or []):
        if guest.get("name") not in (None, ""):
            # Names libvirt cannot hold ('/', control characters) are bad input, not a guest that is missing.
            Domain.fields()["name"].normalize(guest["name"], "guests[%d].name" % index)
    return rules.normalize_guests(params.get("guests")), package_name_map(params.get("package_names"))


def run_xenpv_check(module):
    """The module's result, from the host it runs on."""
    return check_xenpv_host(module.params, ModuleHost(module), gather="module")


def check_xenpv_host(params, host, gather):
    """Apply every rule to the host and the declared guests; returns the module's result.

    ``host`` answers the questions (ModuleHost or _xenpv_raw.CommandHost); ``gather`` says which, in the
    result. Raises InputError for bad input before reading anything, and VirtLibvirtError listing every
    problem when ``fail_on_problems`` is set (the result travels with it).
    """
    guests, mapping = check_input(params)
    installroot = params.get("installroot") or "/"
    if not host.is_directory(installroot):
        raise InputError("%s is not a directory" % installroot, option="installroot")
    release_file = params.get("release_file") or "/etc/redhat-release"
    release_text, release_error = host.read_release(release_file)
    machine = params.get("host_arch") or host.machine()
    names = [guest.name for guest in guests if guest.name]
    documents, lookup_errors = host.read_definitions(params.get("uri"), names) if names else ({}, {})
    definitions = dict((name, Domain.from_xml(xml, option="guests")) for name, xml in documents.items())

    evaluation = rules.evaluate(
        {"release_text": release_text,
         "release_source": "%s (%s)" % (release_file, release_error) if release_error else release_file,
         "machine": machine, "is_root": host.is_root()},
        guests, definitions, lookup_errors, debug=params.get("debug"),
        accept_rebuilds=params.get("accept_rebuilds"))

    problems = evaluation["problems"]
    database = PackageDatabase(host, installroot)
    installed_versions, media = {}, {}
    if database.rpm is None:
        problems.append(rules.problem(
            "host_no_package_database",
            "the host has no rpm command, so its package database cannot be read; Red Hat Enterprise Linux "
            "hosts keep their packages in RPM"))
    else:
        installed_versions = database.query([mapping[name] for name in rules.SEED_PACKAGES])
        for seed_name in rules.SEED_PACKAGES:
            if mapping[seed_name] in installed_versions:
                path = database.media(mapping[seed_name])
                if path:
                    media[seed_name] = path
    needed = _mapped(evaluation["packages"], mapping)
    installed = [mapping[name] for name in rules.SEED_PACKAGES if mapping[name] in installed_versions]
    result = {
        "changed": False,
        "host": evaluation["host"],
        "packages": needed,
        "installed": installed,
        "installed_versions": installed_versions,
        "missing": [name for name in needed if name not in installed_versions],
        "package_names": mapping,
        "media": media,
        "problems": problems,
        "notes": evaluation["notes"],
        "guests": evaluation["guests"],
        "supported": not problems,
        "gather": gather,
    }
    if problems and params.get("fail_on_problems"):
        raise VirtLibvirtError(rules.describe_problems(problems), **result)
    return result


def error_result(error):
    """A failed task's result for ``error``, as fail_from_error makes it (for the action plugin, which has
    no AnsibleModule to fail)."""
    result = {"failed": True, "msg": str(error)}
    if error.option:
        result["option"] = error.option
    if error.libvirt_message:
        result["libvirt_message"] = error.libvirt_message
    result.update(error.details)
    return result

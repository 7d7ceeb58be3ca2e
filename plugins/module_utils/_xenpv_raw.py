# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is internal to virt.libvirt and may change without notice.
"""The xenpv_drivers facts gathered with plain commands, for hosts that cannot run the module.

Red Hat shipped a Xen host only in RHEL 5, whose Python is 2.4; ansible-core runs modules only on Python 3.7+
and this collection's need 3.8. The action plugin (plugins/action/xenpv_drivers.py) then asks the host with
commands over Ansible's connection - the release file, ``uname -m``, ``id -u``, ``rpm -q`` and ``virsh
dumpxml`` - and _xenpv.check_xenpv_host applies the same rules to the answers on the controller.

Pure logic: each command is an argument list, quoted into one command line by ``command_line`` (nothing a
user declares reaches the host's shell unquoted); the caller runs it and hands back (rc, stdout, stderr).
"""
from __future__ import annotations

import re
import shlex

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import UnsupportedError

from ansible_collections.virt.libvirt.plugins.module_utils._connection import uri_secret_values
from ansible_collections.virt.libvirt.plugins.module_utils._errors import InputError, VirtLibvirtError
from ansible_collections.virt.libvirt.plugins.module_utils._module import argument_error_messages
from ansible_collections.virt.libvirt.plugins.module_utils._xenpv import (
    RELEASE_READ_LIMIT, missing_guest_message, xenpv_argument_spec,
)

# What the collection's modules need on the managed host.
MINIMUM_PYTHON = (3, 8)

# Runs on every Python from 2.4 on: prints "MAJOR.MINOR", then the libraries the module needs that import.
PYTHON_PROBE = "\n".join([
    "import sys",
    "sys.stdout.write('%d.%d' % (sys.version_info[0], sys.version_info[1]))",
    "for name in ('lxml.etree', 'libvirt'):",
    "    try:",
    "        __import__(name)",
    "        sys.stdout.write(' ' + name)",
    "    except Exception:",
    "        pass",
])

# rpm as module.get_bin_path finds it: on PATH, then in the sbin directories.
FIND_RPM = ('set -f; IFS=:; for d in $PATH:/sbin:/usr/sbin:/usr/local/sbin; do '
            'if [ -n "$d" ] && [ -f "$d/rpm" ] && [ -x "$d/rpm" ]; then echo "$d/rpm"; exit 0; fi; done; exit 1')

# Options that are paths on the host: checked as text here, never expanded on the controller.
_HOST_PATHS = ("release_file", "installroot")


def command_line(argv):
    """One shell command line running ``argv``, every argument quoted."""
    return " ".join(shlex.quote(str(argument)) for argument in argv)


_ENVIRONMENT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def with_environment(environment, argv):
    """``argv`` run with the task's ``environment`` (as a module's commands get it), through env(1): names and
    values are arguments too, so they are quoted like the rest."""
    if not environment:
        return list(argv)
    assignments = []
    for name, value in sorted(environment.items()):
        if not _ENVIRONMENT_NAME.match(str(name)):
            raise InputError("%r is not an environment variable name" % (name,), option="environment")
        assignments.append("%s=%s" % (name, value))
    return ["env"] + assignments + list(argv)


def validated_parameters(args, module_name):
    """The task's arguments checked against the module's argument spec, with the module's messages.

    Paths stay as written: ``~`` and variables would expand on the controller, not on the host."""
    spec = xenpv_argument_spec()
    for name in _HOST_PATHS:
        spec[name] = dict(spec[name], type="str")
    validation = ArgumentSpecValidator(spec).validate(dict(args))
    errors = validation.errors.errors
    if errors:
        if isinstance(errors[0], UnsupportedError):
            raise InputError("Unsupported parameters for (%s) module: %s" % (module_name, errors[0].args[0]))
        raise InputError(argument_error_messages(errors)[0])
    return validation.validated_parameters


def needs_libvirt(params):
    return any((guest or {}).get("name") for guest in params.get("guests") or [])


def interpreter_argv(shebang):
    """The interpreter command of a module's shebang line (``#!/usr/bin/env python3`` -> two words)."""
    return shlex.split((shebang or "").lstrip("#!").strip()) or ["/usr/bin/python3"]


def probe_argv(interpreter):
    return list(interpreter) + ["-c", PYTHON_PROBE]


def module_can_run(interpreter, rc, stdout, stderr, params):
    """Whether the interpreter Ansible would run the module with can: (True, None) or (False, why)."""
    shown = " ".join(interpreter)
    words = (stdout or "").split()
    version = None
    if words and re.match(r"^\d+\.\d+$", words[0]):
        version = tuple(int(part) for part in words[0].split("."))
    if rc != 0 or version is None:
        why = (stderr or stdout or "").strip().splitlines()
        return False, "the interpreter %s does not run on the host (rc=%s%s)" % (
            shown, rc, ": %s" % why[-1] if why else "")
    if version < MINIMUM_PYTHON:
        return False, "the interpreter %s is Python %d.%d; the module needs Python %d.%d or later" % (
            (shown,) + version + MINIMUM_PYTHON)
    missing = [name for name, needed in (("lxml.etree", True), ("libvirt", needs_libvirt(params)))
               if needed and name not in words[1:]]
    if missing:
        return False, "the interpreter %s (Python %d.%d) cannot import %s, which the module needs" % (
            (shown,) + version + (" or ".join(missing),))
    return True, None


def check_raw_input(params):
    """What only the command path refuses, on top of the module's own checks (_xenpv.check_input)."""
    for name in _HOST_PATHS:
        value = params.get(name)
        if value and not value.startswith("/"):
            raise InputError("must be an absolute path on the host when its facts are gathered with commands "
                             "(gather=raw), got %r" % value, option=name)
    if needs_libvirt(params) and uri_secret_values(params.get("uri")):
        raise InputError("carries a password; virsh on the host would show it in the host's process list. Use "
                         "a URI without a password, or a host that can run the module (gather=module)",
                         option="uri")


# Become over ssh gives the command a terminal (-tt; RHEL 5's sudo requires one), which merges its stderr into
# stdout and ends lines in CRLF; sudo and polkit may write there too. So each command runs inside a fixed script
# that prints a marker, the command's stdout, the marker again and then the command's stderr, and keeps its exit
# code: $0 is the marker, "$@" the command.
FRAME_MARKER = "--8<-- virt.libvirt --8<--"
FRAME = ('printf "%s\\n" "$0"; exec 3>&1; err=$( { "$@" 1>&3 3>&-; } 2>&1 ); rc=$?; '
         'printf "\\n%s\\n%s" "$0" "$err"; exit $rc')


def framed(argv):
    return ["/bin/sh", "-c", FRAME, FRAME_MARKER] + list(argv)


def unframed(rc, stdout, stderr):
    """The command's own (rc, stdout, stderr) from a framed run."""
    text = (stdout or "").replace("\r\n", "\n")
    start = text.find(FRAME_MARKER + "\n")
    end = text.rfind("\n" + FRAME_MARKER + "\n")
    if start < 0 or end < start:
        return rc, text, (stderr or "").replace("\r\n", "\n")  # the frame did not run: say what happened
    return rc, text[start + len(FRAME_MARKER) + 1:end], text[end + len(FRAME_MARKER) + 2:]


def _last_line(text):
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _virsh_errors(stderr):
    """virsh's "error: ..." lines, without the prefix."""
    return [line.split(":", 1)[1].strip() for line in (stderr or "").splitlines()
            if line.lower().startswith("error:")]


class CommandHost:
    """The host, asked with plain commands. ``run_on_host(argv)`` runs one command (an argument list, which it
    quotes with command_line) on the host and returns its (rc, stdout, stderr); ``environment`` is the task's.

    Answers the questions _xenpv.ModuleHost answers, the same way: see check_xenpv_host. As there, the task's
    environment reaches the programs the module would start (rpm, and here virsh and the interpreter probe), not
    what the module reads with Python (the release file, the architecture, the user id, the RPM root)."""

    def __init__(self, run_on_host, environment=None):
        self._run_on_host = run_on_host
        self._environment = environment or {}

    def _run(self, argv):
        """The command's own exit code, stdout and stderr, kept apart (see FRAME)."""
        return unframed(*self._run_on_host(framed(argv)))

    def run(self, argv):
        """``argv`` with the task's environment, as the module's run_command would run it."""
        return self._run(with_environment(self._environment, argv))

    def is_directory(self, path):
        return self._run(["test", "-d", path])[0] == 0

    def read_release(self, path):
        rc, stdout, stderr = self._run(["head", "-c", str(RELEASE_READ_LIMIT), "--", path])
        if rc != 0:
            # "head: cannot open 'PATH' for reading: No such file or directory": the reason is last, as
            # Python's strerror says it.
            return None, _last_line(stderr).rsplit(": ", 1)[-1] or "rc=%s" % rc
        return stdout, None

    def machine(self):
        rc, stdout, stderr = self._run(["uname", "-m"])
        if rc != 0 or not stdout.strip():
            raise VirtLibvirtError("reading the host's architecture with uname -m failed (rc=%s): %s; set it"
                                   % (rc, _last_line(stderr)), option="host_arch")
        return stdout.strip()

    def is_root(self):
        rc, stdout, _stderr = self._run(["id", "-u"])
        return stdout.strip() == "0" if rc == 0 else None

    def find_rpm(self):
        # module.get_bin_path searches the PATH of the task's environment
        rc, stdout, _stderr = self.run(["/bin/sh", "-c", FIND_RPM])
        return (_last_line(stdout) or None) if rc == 0 else None

    def read_definitions(self, uri, names):
        """``virsh dumpxml --inactive`` of each named guest over a read-only connection to ``uri``."""
        documents, lookup_errors = {}, {}
        for name in names:
            # --domain takes the next word as the name even when it starts with "-".
            rc, stdout, stderr = self.run(["virsh", "-r", "-c", uri, "dumpxml", "--inactive", "--domain", name])
            if rc == 0:
                documents[name] = stdout
                continue
            output = stderr or stdout
            if rc == 127:
                raise VirtLibvirtError("reading the named guests' definitions needs virsh (libvirt's client) on the "
                                       "host: %s" % _last_line(output), option="guests")
            errors = _virsh_errors(output) or [_last_line(output) or "rc=%s" % rc]
            if any("failed to connect to the hypervisor" in error.lower() for error in errors):
                message = "; ".join(error for error in errors
                                    if "failed to connect to the hypervisor" not in error.lower()) or errors[0]
                raise VirtLibvirtError("cannot connect to libvirt at uri '%s' (virsh on the host): %s" % (uri, message),
                                       option="uri", libvirt_message=message)
            if any("domain not found" in error.lower() or "failed to get domain" in error.lower()
                   for error in errors):
                lookup_errors[name] = missing_guest_message(name, uri)
                continue
            message = "; ".join(errors)
            raise VirtLibvirtError("looking up the guest %s failed: %s" % (name, message), option="guests",
                                   libvirt_message=message)
        return documents, lookup_errors

"""The command path of xenpv_drivers (_xenpv_raw), run for real on this machine: quoting, the frame that keeps a
command's stdout, stderr and exit code apart, the interpreter probe, and each fact read with commands against
the same fact read by the module (ModuleHost)."""
from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

from ansible_collections.virt.libvirt.plugins.module_utils import _xenpv_raw as raw
from ansible_collections.virt.libvirt.plugins.module_utils._errors import InputError
from ansible_collections.virt.libvirt.plugins.module_utils._xenpv import ModuleHost

HOSTILE = ["plain", "two words", "it's", '"double"', "$(touch {marker})", "`touch {marker}`", "a;touch {marker}",
           "a|b", "a&&b", "\\back", "new\nline", "-n", "--", "*", "~root", "$HOME", "'", ""]


def run_line(line):
    """One command line through /bin/sh -c, as Ansible's connection runs it."""
    process = subprocess.run(["/bin/sh", "-c", line], capture_output=True, text=True, timeout=60, check=False)
    return process.returncode, process.stdout, process.stderr


def run_argv(argv):
    """What the action plugin does with an argument list: quote it into one line and run that."""
    return run_line(raw.command_line(argv))


def test_every_argument_reaches_the_program_as_written(tmp_path):
    marker = tmp_path / "ran"
    arguments = [argument.format(marker=marker) for argument in HOSTILE]
    code, stdout, _stderr = run_line(raw.command_line([sys.executable, "-c",
                                                       "import sys; sys.stdout.write('\\0'.join(sys.argv[1:]))"]
                                                      + arguments))
    assert code == 0 and stdout.split("\0") == arguments
    assert not marker.exists()


def test_the_frame_keeps_stdout_stderr_and_the_exit_code_apart():
    host = raw.CommandHost(run_argv)
    assert host.run(["sh", "-c", "echo out; echo err >&2; exit 3"]) == (3, "out\n", "err")
    assert host.run(["printf", "no newline at the end"]) == (0, "no newline at the end", "")
    code, stdout, stderr = host.run(["no-such-command-vlt"])
    assert code == 127 and stdout == "" and "not found" in stderr
    # A terminal (become over ssh) merges stderr into stdout and writes CRLF: the frame survives both.
    merged = run_line(raw.command_line(raw.framed(["sh", "-c", "echo out; echo err >&2; exit 4"])) + " 2>&1")
    terminal = (merged[0], "sudo: a warning first\r\n" + merged[1].replace("\n", "\r\n"), "Shared connection closed.")
    assert raw.unframed(*terminal) == (4, "out\n", "err")


def test_environment_names_and_values_are_arguments_too(tmp_path):
    marker = tmp_path / "ran"
    argv = raw.with_environment({"VLT_VALUE": "$(touch %s) 'x'" % marker}, ["sh", "-c", 'printf %s "$VLT_VALUE"'])
    assert run_line(raw.command_line(argv))[1] == "$(touch %s) 'x'" % marker and not marker.exists()
    assert raw.with_environment({}, ["id"]) == ["id"]
    # As for the module: the task's PATH decides where rpm is found, not whether the host can be read at all.
    host = raw.CommandHost(run_argv, {"PATH": str(tmp_path)})
    assert host.find_rpm() is None and host.machine() == platform.machine() and host.is_directory(str(tmp_path))
    with pytest.raises(InputError) as refused:
        raw.with_environment({"A;touch %s" % marker: "1"}, ["id"])
    assert refused.value.option == "environment"


@pytest.mark.parametrize("rc, stdout, params, runs, words", [
    (0, "3.11 lxml.etree libvirt", {"guests": [{"name": "g"}]}, True, None),
    (0, "3.8 lxml.etree", {"guests": [{"os": "xp-sp3"}]}, True, None),
    (127, "", {}, False, "does not run on the host (rc=127: sh: 1: /usr/bin/python: not found)"),
    (0, "2.4 lxml.etree", {}, False, "is Python 2.4; the module needs Python 3.8 or later"),
    (0, "3.6 lxml.etree libvirt", {}, False, "is Python 3.6; the module needs Python 3.8 or later"),
    (0, "3.11 libvirt", {}, False, "cannot import lxml.etree"),
    (0, "3.11 lxml.etree", {"guests": [{"name": "g"}]}, False, "cannot import libvirt"),
    (1, "garbage", {}, False, "does not run on the host (rc=1"),
])
def test_the_probe_decides_whether_the_module_can_run(rc, stdout, params, runs, words):
    can_run, why = raw.module_can_run(["/usr/bin/python"], rc, stdout, "sh: 1: /usr/bin/python: not found", params)
    assert can_run is runs
    assert (why is None) if runs else (words in why), why


def test_the_probe_runs_and_reads_this_interpreter():
    code, stdout, stderr = raw.CommandHost(run_argv).run(raw.probe_argv([sys.executable]))
    assert code == 0, stderr
    assert stdout.split()[0] == "%d.%d" % sys.version_info[:2] and "lxml.etree" in stdout.split()
    assert raw.interpreter_argv("#!/usr/bin/env python3") == ["/usr/bin/env", "python3"]
    # The probe is also Python 2 syntax (no print function, no f-strings, no "except ... as").
    assert "print" not in raw.PYTHON_PROBE and " as " not in raw.PYTHON_PROBE and "f'" not in raw.PYTHON_PROBE


class _Module:
    """The two things ModuleHost takes from AnsibleModule, done the same way."""

    def get_bin_path(self, name):
        from ansible.module_utils.common.process import get_bin_path  # pylint: disable=import-outside-toplevel

        try:
            return get_bin_path(name)
        except ValueError:
            return None

    def run_command(self, argv):
        process = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
        return process.returncode, process.stdout, process.stderr


def test_commands_read_the_same_facts_as_the_module(tmp_path):
    module_host, command_host = ModuleHost(_Module()), raw.CommandHost(run_argv)
    release = tmp_path / "redhat-release"
    release.write_text("Red Hat Enterprise Linux Server release 5.4 (Tikanga)\nsecond line\n")
    for path in (str(release), str(tmp_path / "missing"), str(tmp_path), "/etc/hostname"):
        assert command_host.read_release(path) == module_host.read_release(path), path
    assert command_host.read_release(str(tmp_path / "missing"))[1] == "No such file or directory"
    assert command_host.read_release(str(tmp_path))[1] == "Is a directory"
    for path in (str(tmp_path), str(release), str(tmp_path / "missing"), "/"):
        assert command_host.is_directory(path) is module_host.is_directory(path), path
    assert command_host.machine() == module_host.machine() == platform.machine()
    assert command_host.is_root() is module_host.is_root() is (os.geteuid() == 0)
    assert command_host.find_rpm() == module_host.find_rpm()


def test_paths_must_be_absolute_and_passwords_stay_off_the_hosts_command_line():
    params = raw.validated_parameters({"release_file": "redhat-release"}, "virt.libvirt.xenpv_drivers")
    with pytest.raises(InputError) as refused:
        raw.check_raw_input(params)
    assert refused.value.option == "release_file"
    params = raw.validated_parameters({"uri": "esx://root:s3cret@host/", "guests": [{"name": "g", "os": "xp-sp3"}]},
                                      "virt.libvirt.xenpv_drivers")
    with pytest.raises(InputError) as refused:
        raw.check_raw_input(params)
    assert refused.value.option == "uri" and "s3cret" not in str(refused.value)
    # ~ is not expanded on the controller: it would name the controller's home, not the host's
    assert raw.validated_parameters({"release_file": "~/x"}, "m")["release_file"] == "~/x"
    with pytest.raises(InputError) as refused:
        raw.validated_parameters({"gather": "sometimes"}, "virt.libvirt.xenpv_drivers")
    assert "gather" in str(refused.value)
    with pytest.raises(InputError) as refused:
        raw.validated_parameters({"bogus": 1}, "virt.libvirt.xenpv_drivers")
    assert str(refused.value).startswith("Unsupported parameters for (virt.libvirt.xenpv_drivers) module: bogus")

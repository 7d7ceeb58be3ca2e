"""Nothing a user declares reaches a shell: the plugins start no process but through AnsibleModule.run_command
with an argument list, or (the action plugin, on hosts that cannot run modules) through the connection with a
command line command_line() quotes from an argument list; the roles and playbooks run no shell or script task
and no command line built from a string; a templated command argument is only a variable the role's
argument_specs limits to fixed choices; a raw task (for hosts that cannot run modules) runs an argument list
whose every element is quoted, headed by a program the role's argument_specs limits to fixed choices."""
from __future__ import annotations

import ast
import re

import pytest
import yaml

from tests.support.harness import REPO

PLUGIN_FILES = sorted((REPO / "plugins").rglob("*.py"))
TASK_FILES = sorted(list((REPO / "roles").glob("*/tasks/*.yml")) + list((REPO / "roles").glob("*/handlers/*.yml"))
                    + list((REPO / "playbooks").glob("*.yml")))
SHELL_MODULES = {"shell", "raw", "script", "expect", "telnet"}
COMMAND_MODULES = {"command"}
PROCESS_CALLS = {("os", "system"), ("os", "popen"), ("os", "execv"), ("os", "execvp"), ("os", "spawnv"),
                 ("os", "spawnvp"), ("pty", "spawn")}
# A templated command argument: the role variable (with choices in argument_specs) it comes from, and the
# loop that feeds it (_libvirt_host_stopped is the part of libvirt_host_direct_daemons pgrep did not find).
# raw tasks: "{{ (ARGV_VARIABLE + [...]) | map('quote') | join(' ') }}", and the role variable (with choices in
# argument_specs) that names the program ARGV_VARIABLE (in the role's vars/main.yml) runs.
QUOTED_RAW = re.compile(r"^\{\{ \((?P<argv>[^{}]+)\) \| map\('quote'\) \| join\(' '\) \}\}$")
RAW_COMMANDS = {
    ("xenpv_win", "Install the xenpv-win packages the guests need with the host's package manager"):
        ("__xenpv_win_manager_argv", "xenpv_win_package_manager"),
    ("xenpv_win", "Remove the xenpv-win packages with the host's package manager"):
        ("__xenpv_win_manager_argv", "xenpv_win_package_manager"),
}
CONSTRAINED_ARGUMENTS = {
    ("libvirt_host", "Find the daemons that run"): ("libvirt_host_direct_daemons", "libvirt_host_direct_daemons"),
    ("libvirt_host", "Start the daemons that do not run"): ("libvirt_host_direct_daemons", "_libvirt_host_stopped"),
}


@pytest.mark.parametrize("path", PLUGIN_FILES, ids=lambda path: str(path.relative_to(REPO)))
def test_plugins_start_processes_only_with_argument_lists(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [alias.name for alias in node.names] + [getattr(node, "module", None) or ""]
            if any(name.split(".")[0] in ("subprocess", "commands", "pexpect") for name in names):
                problems.append("line %d imports a process module" % node.lineno)
        if not isinstance(node, ast.Call):
            continue
        function = node.func
        if isinstance(function, ast.Attribute) and isinstance(function.value, ast.Name) \
                and (function.value.id, function.attr) in PROCESS_CALLS:
            problems.append("line %d calls %s.%s" % (node.lineno, function.value.id, function.attr))
        if isinstance(function, ast.Attribute) and function.attr == "_low_level_execute_command":
            line = node.args[0] if node.args else None
            if not (isinstance(line, ast.Call) and getattr(line.func, "id", None) == "command_line"):
                problems.append("line %d runs a command line on the host that command_line() did not quote"
                                % node.lineno)
        if isinstance(function, ast.Attribute) and function.attr == "run_command" and node.args:
            command = node.args[0]
            if isinstance(command, ast.BinOp) and isinstance(command.op, ast.Mod):
                command = command.left  # "rpm -q %s" % name
            if isinstance(command, (ast.Constant, ast.JoinedStr)):
                problems.append("line %d passes run_command a string, which it splits like a shell" % node.lineno)
            for keyword in node.keywords:
                if keyword.arg == "use_unsafe_shell":
                    problems.append("line %d asks run_command for a shell" % node.lineno)
    assert not problems, problems


def _tasks(node):
    """Every task in a task list or play list, blocks and plays included."""
    for entry in node or []:
        if not isinstance(entry, dict):
            continue
        for key in ("tasks", "pre_tasks", "post_tasks", "handlers", "block", "rescue", "always"):
            yield from _tasks(entry.get(key))
        if not any(key in entry for key in ("block", "tasks", "hosts", "import_playbook")):
            yield entry


def _module(task):
    for key in task:
        short = key.rsplit(".", 1)[-1]
        if short in SHELL_MODULES | COMMAND_MODULES:
            return short, task[key]
    return None, None


def _role_of(path):
    parts = path.relative_to(REPO).parts
    return parts[1] if parts[0] == "roles" else None


def _choices(role, variable):
    specs = yaml.safe_load((REPO / "roles" / role / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    return specs["argument_specs"]["main"]["options"][variable].get("choices")


def test_the_scan_sees_the_tasks():
    names = [task.get("name") for path in TASK_FILES for task in _tasks(yaml.safe_load(path.read_text()))]
    assert "Find the daemons that run" in names and len(names) > 20


@pytest.mark.parametrize("path", TASK_FILES, ids=lambda path: str(path.relative_to(REPO)))
def test_roles_and_playbooks_run_no_shell(path):
    problems = []
    for task in _tasks(yaml.safe_load(path.read_text(encoding="utf-8"))):
        module, arguments = _module(task)
        if module is None:
            continue
        name = task.get("name")
        if module == "raw" and (_role_of(path), name) in RAW_COMMANDS:
            problems.extend(_raw_problems(path, name, arguments))
            continue
        if module in SHELL_MODULES:
            problems.append("%s: uses %s" % (name, module))
            continue
        if not isinstance(arguments, dict) or "argv" not in arguments:
            problems.append("%s: a command line given as a string; use argv" % name)
            continue
        templated = [argument for argument in arguments["argv"] if "{{" in str(argument)]
        if templated:
            constraint = CONSTRAINED_ARGUMENTS.get((_role_of(path), name))
            if constraint is None:
                problems.append("%s: templated arguments %s from an unconstrained variable" % (name, templated))
                continue
            variable, loop = constraint
            if not _choices(_role_of(path), variable):
                problems.append("%s: %s has no choices in argument_specs" % (name, variable))
            if task.get("loop") != "{{ %s }}" % loop or templated != ["{{ item }}"]:
                problems.append("%s: argv %s over %r, expected item of %s" % (name, templated, task.get("loop"), loop))
    assert not problems, problems


def _raw_problems(path, name, command):
    """A raw task of RAW_COMMANDS quotes every element of its argument list, whose program is constrained."""
    argv_variable, program_variable = RAW_COMMANDS[(_role_of(path), name)]
    match = QUOTED_RAW.match(command if isinstance(command, str) else "")
    if not match:
        return ["%s: raw runs %r, not an argument list joined with map('quote')" % (name, command)]
    problems = []
    if not match.group("argv").startswith(argv_variable + " "):
        problems.append("%s: the argument list does not start with %s" % (name, argv_variable))
    role_vars = yaml.safe_load((REPO / "roles" / _role_of(path) / "vars" / "main.yml").read_text(encoding="utf-8"))
    program = str(role_vars.get(argv_variable, "")).split("+", maxsplit=1)[0]  # the list's head, before the options
    if program_variable not in program:
        problems.append("%s: the program of %s does not come from %s" % (name, argv_variable, program_variable))
    if not _choices(_role_of(path), program_variable):
        problems.append("%s: %s has no choices in argument_specs" % (name, program_variable))
    return problems


def test_a_raw_command_of_a_role_is_checked():
    """The raw tasks exist, so the check above is not vacuous."""
    names = {task.get("name") for path in TASK_FILES for task in _tasks(yaml.safe_load(path.read_text()))
             if _module(task)[0] == "raw"}
    assert names == {name for _role, name in RAW_COMMANDS}

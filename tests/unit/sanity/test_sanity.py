"""Checks beside the real ansible-test sanity (`make ansible-sanity`), which tests on this machine's Python only:
documentation agrees with the argument spec, plugins parse as Python 3.8, modules follow Ansible's rules,
ansible-doc renders every plugin, roles declare their arguments, the action group lists every module."""
from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ansible.module_utils import basic

from tests.support.harness import REPO, ansible_env

MODULES = sorted(path.stem for path in (REPO / "plugins" / "modules").glob("*.py") if path.stem != "__init__")
INVENTORY_PLUGINS = sorted(path.stem for path in (REPO / "plugins" / "inventory").glob("*.py")
                           if path.stem != "__init__") if (REPO / "plugins" / "inventory").is_dir() else []
PLUGIN_FILES = sorted(path for path in (REPO / "plugins").rglob("*.py"))
ROLES = sorted(path.name for path in (REPO / "roles").iterdir() if path.is_dir())


class _Captured(Exception):
    def __init__(self, kwargs):
        super().__init__("captured")
        self.kwargs = kwargs


def _argument_spec(module_name):
    module = importlib.import_module("ansible_collections.virt.libvirt.plugins.modules.%s" % module_name)

    def capture(self, *args, **kwargs):
        raise _Captured(kwargs)

    # Patched on the base class, as ansible-test's validate-modules does: a module may build a subclass.
    original = basic.AnsibleModule.__init__
    basic.AnsibleModule.__init__ = capture
    try:
        module.main()
    except _Captured as captured:
        return module, captured.kwargs
    finally:
        basic.AnsibleModule.__init__ = original
    raise AssertionError("%s.main() did not build an AnsibleModule" % module_name)


def _fragment_options(name):
    fragment = importlib.import_module("ansible_collections.virt.libvirt.plugins.doc_fragments.%s" % name)
    return yaml.safe_load(fragment.ModuleDocFragment.DOCUMENTATION).get("options", {})


def _compare(documented, spec, where, problems):
    for name in sorted(set(documented) | set(spec)):
        label = "%s%s" % (where, name)
        if name not in spec:
            problems.append("%s: documented but not in the argument spec" % label)
            continue
        if name not in documented:
            problems.append("%s: in the argument spec but not documented" % label)
            continue
        doc, arg = documented[name] or {}, spec[name]
        if not doc.get("description"):
            problems.append("%s: no description" % label)
        for key, default in (("type", "str"), ("default", None), ("choices", None), ("required", False),
                             ("elements", None), ("aliases", None)):
            if doc.get(key, default) != arg.get(key, default):
                problems.append("%s: %s is %r in the docs but %r in the argument spec"
                                % (label, key, doc.get(key, default), arg.get(key, default)))
        if "suboptions" in doc or "options" in arg:
            _compare(doc.get("suboptions") or {}, arg.get("options") or {}, label + ".", problems)


@pytest.mark.parametrize("module_name", MODULES)
def test_documentation_matches_argument_spec(module_name):
    module, kwargs = _argument_spec(module_name)
    documentation = yaml.safe_load(module.DOCUMENTATION)
    options = dict(documentation.get("options") or {})
    for fragment in documentation.get("extends_documentation_fragment") or []:
        if fragment.startswith("virt.libvirt."):  # ansible.builtin's fragments document attributes only
            options.update(_fragment_options(fragment.split(".")[-1]))
    problems = []
    _compare(options, kwargs["argument_spec"], "", problems)
    assert not problems, "\n".join(problems)
    assert documentation["module"] == module_name
    assert yaml.safe_load(module.EXAMPLES), "no examples"
    assert isinstance(yaml.safe_load(module.RETURN), dict), "RETURN is not a mapping"
    attributes = documentation.get("attributes") or {}
    assert {"check_mode", "diff_mode"} <= set(attributes), "attributes check_mode and diff_mode are documented"
    if attributes["check_mode"]["support"] != "none":
        assert kwargs.get("supports_check_mode"), "documents check mode but does not support it"


@pytest.mark.parametrize("path", PLUGIN_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_plugins_parse_as_python_3_8(path):
    source = path.read_text()
    ast.parse(source, filename=str(path), feature_version=(3, 8))
    for name in ("removeprefix", "removesuffix"):
        assert ".%s(" % name not in source, "str.%s needs Python 3.9" % name


_FORBIDDEN_IMPORTS = {"subprocess"}
_FORBIDDEN_CALLS = {("sys", "exit"), ("os", "system"), ("os", "popen")}


@pytest.mark.parametrize("path", [p for p in PLUGIN_FILES if p.parent.name in ("modules", "module_utils")],
                         ids=lambda p: str(p.relative_to(REPO)))
def test_modules_follow_ansible_rules(path):
    tree = ast.parse(path.read_text())
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            problems += ["import %s" % a.name for a in node.names if a.name.split(".")[0] in _FORBIDDEN_IMPORTS]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if module.split(".")[0] in _FORBIDDEN_IMPORTS:
                problems.append("from %s import" % module)
            if module.startswith("ansible.") and not module.startswith("ansible.module_utils"):
                problems.append("from %s import (only ansible.module_utils on managed hosts)" % module)
        elif isinstance(node, ast.Call):
            function = node.func
            if isinstance(function, ast.Name) and function.id == "print":
                problems.append("print() at line %d" % node.lineno)
            if isinstance(function, ast.Attribute) and isinstance(function.value, ast.Name) \
                    and (function.value.id, function.attr) in _FORBIDDEN_CALLS:
                problems.append("%s.%s() at line %d" % (function.value.id, function.attr, node.lineno))
    assert not problems, problems


def _ansible_doc(plugin_type, name):
    process = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-doc"), "-t", plugin_type, "--json", "virt.libvirt.%s" % name],
        capture_output=True, text=True, env=ansible_env(), timeout=120, check=False)
    assert process.returncode == 0 and not process.stderr.strip(), process.stderr
    return json.loads(process.stdout)["virt.libvirt.%s" % name]


@pytest.mark.parametrize("module_name", MODULES)
def test_ansible_doc_renders_module(module_name):
    rendered = _ansible_doc("module", module_name)
    assert rendered["doc"]["options"]["uri"]["default"] == "qemu:///system"
    assert rendered["examples"].strip() and rendered["return"]


@pytest.mark.parametrize("plugin_name", INVENTORY_PLUGINS)
def test_ansible_doc_renders_inventory_plugin(plugin_name):
    rendered = _ansible_doc("inventory", plugin_name)
    assert rendered["doc"]["options"] and rendered["examples"].strip()


@pytest.mark.parametrize("role", ROLES)
def test_roles_declare_their_arguments(role):
    specs = yaml.safe_load((REPO / "roles" / role / "meta" / "argument_specs.yml").read_text())
    options = specs["argument_specs"]["main"]["options"]
    defaults_file = REPO / "roles" / role / "defaults" / "main.yml"
    defaults = yaml.safe_load(defaults_file.read_text()) or {} if defaults_file.exists() else {}
    assert (REPO / "roles" / role / "README.md").is_file()
    for name, value in defaults.items():
        assert name.startswith(role + "_"), "%s: defaults are prefixed with the role's name" % name
        assert name in options, "%s: a default without an argument spec" % name
        if "default" in options[name] and "{{" not in str(value):
            assert options[name]["default"] == value, "%s: default differs from argument_specs" % name


def test_action_group_lists_every_module():
    runtime = yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())
    assert sorted(runtime["action_groups"]["libvirt"]) == sorted(
        set(MODULES) | {"domain", "network", "capabilities_facts", "xenpv_drivers"})
    assert runtime["requires_ansible"].startswith(">=2.16")


@pytest.mark.skipif(not (REPO / "Makefile").is_file(), reason="the Makefile is part of the source checkout only")
@pytest.mark.parametrize("target", ["demo", "demo-clean", "test", "benchmark", "sanity", "matrix", "clean"])
def test_make_targets_are_defined_once(target):
    dry_run = subprocess.run(["make", "-n", "-C", str(REPO), target], capture_output=True, text=True, timeout=60,
                             check=False)
    assert dry_run.returncode == 0 and "warning" not in dry_run.stderr.lower(), dry_run.stderr

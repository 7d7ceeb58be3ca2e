# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is internal to virt.libvirt and may change without notice.
"""Import guards for the libraries the modules need on the managed host (pycdlib only for cloud-init disks)."""
from __future__ import annotations

import importlib
import traceback

from ansible.module_utils.basic import missing_required_lib

# import name -> package to install
_PACKAGES = {"lxml": "lxml", "libvirt": "libvirt-python", "pycdlib": "pycdlib"}
_IMPORTS = {"lxml": "lxml.etree", "libvirt": "libvirt", "pycdlib": "pycdlib"}


def _import_error(name):
    """The traceback of importing ``name``, or None when it imports. Imported only when asked for: a module
    run that needs no cloud-init disk never loads pycdlib."""
    try:
        importlib.import_module(_IMPORTS[name])
    except ImportError:
        return traceback.format_exc()
    return None


def _message(name):
    return missing_required_lib(_PACKAGES[name]) + " (Python module '%s' cannot be imported)" % name


def missing_library_message(name):
    """Ansible's standard "missing library" message for ``name`` when it cannot be imported, else None (for a
    library only some options need, checked when they are given)."""
    return _message(name) if _import_error(name) is not None else None


def require_libraries(module, names=("lxml", "libvirt")):
    """Fail the task with Ansible's standard "missing library" message naming the package."""
    for name in names:
        import_error = _import_error(name)
        if import_error is not None:
            module.fail_json(msg=_message(name), exception=import_error)

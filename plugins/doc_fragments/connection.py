# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations


class ModuleDocFragment:
    # Mirrors CONNECTION_ARGUMENT_SPEC in plugins/module_utils/_connection.py.
    DOCUMENTATION = r"""
options:
  uri:
    description:
      - The libvirt connection URI, for example C(qemu:///system), C(xen:///system),
        C(qemu+ssh://root@host/system) or C(test+unix:///default).
      - The connection is opened once per task and always closed.
      - A password written into the URI (C(esx://root:password@host/)) is masked in the task's output and log.
    type: str
    default: qemu:///system
requirements:
  - python >= 3.8
  - libvirt-python (the C(libvirt) Python module)
  - lxml
"""

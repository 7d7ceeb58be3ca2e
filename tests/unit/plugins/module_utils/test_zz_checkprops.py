"""Every modelled field of the domain and network models is exercised by a unit test (read or written).

As virt-manager's tests/test_checkprops.py: a field nobody tests is a field whose parsing, normalisation or
rendering can break unnoticed. The file name sorts last in its folder, so that it runs after the model tests
(the records come from conftest.py). It checks only when every unit test module of the folder ran in this
session; a partial run (``-k``, one file) skips it.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.virt.libvirt.plugins.module_utils import _domain_model, _network_model
from ansible_collections.virt.libvirt.plugins.module_utils import _xmlmodel as xm
from tests.unit.plugins.module_utils.conftest import EXERCISED_FIELDS

HERE = Path(__file__).resolve().parent


def modelled_fields():
    """(model class, field name, Field) for every field declared by a class of the two models."""
    fields = []
    for module in (_domain_model, _network_model):
        for klass in vars(module).values():
            if isinstance(klass, type) and issubclass(klass, xm.XMLModel) and klass.__module__ == module.__name__:
                for name, field in vars(klass).items():
                    if isinstance(field, xm.Field):
                        fields.append((klass, name, field))
    return fields


def test_the_models_have_fields():
    names = {(klass.__name__, name) for klass, name, _field in modelled_fields()}
    assert {("Domain", "memory"), ("Disk", "target"), ("Channel", "target_name"), ("Network", "bridge_name")} <= names


def test_every_modelled_field_is_exercised(request):
    modules = {path.name for path in HERE.glob("test_*.py")} - {Path(__file__).name}
    ran = {Path(str(item.fspath)).name for item in request.session.items}
    if not modules <= ran:
        pytest.skip("only a part of %s ran; this check needs all of its test modules" % HERE.name)
    unexercised = ["%s.%s" % (klass.__name__, name) for klass, name, field in modelled_fields()
                   if id(field) not in EXERCISED_FIELDS]
    assert not unexercised, "modelled fields no unit test reads or writes: %s" % ", ".join(sorted(unexercised))

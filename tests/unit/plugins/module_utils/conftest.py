"""Records which modelled fields the unit tests read or write (for test_zz_checkprops.py)."""
from __future__ import annotations

import pytest

from ansible_collections.virt.libvirt.plugins.module_utils import _xmlmodel as xm

# id() of every Field instance a test read or set.
EXERCISED_FIELDS = set()


def _field_classes():
    found, pending = [], [xm.Field]
    while pending:
        klass = pending.pop()
        found.append(klass)
        pending.extend(klass.__subclasses__())
    return found


@pytest.fixture(scope="session", autouse=True)
def record_exercised_fields():
    """Wrap every Field class's __get__ and __set__ for the session, as virt-manager's test suite tracks its
    XMLProperty accesses for test_checkprops."""
    originals = []
    for klass in _field_classes():
        for method in ("__get__", "__set__"):
            if method not in vars(klass):
                continue
            original = vars(klass)[method]
            originals.append((klass, method, original))

            def recording(self, model, *rest, _original=original):
                if model is not None:
                    EXERCISED_FIELDS.add(id(self))
                return _original(self, model, *rest)

            setattr(klass, method, recording)
    yield
    for klass, method, original in originals:
        setattr(klass, method, original)

"""The domain model over libvirt 9.0.0's own test documents (../shared/corpus/domain): every document
parses, renders back equivalent, keeps what the model does not know when a field changes, and the
documents libvirt itself wrote still validate against domain.rng after a change."""
from __future__ import annotations

import pytest
from lxml import etree

from ansible_collections.virt.libvirt.plugins.module_utils import _xmlmodel as xm
from ansible_collections.virt.libvirt.plugins.module_utils._domain_model import Domain
from tests.support.harness import CORPUS, SCHEMAS

DOCUMENTS = sorted((CORPUS / "domain").rglob("*.xml"))


@pytest.fixture(scope="module")
def domain_schema():
    return etree.RelaxNG(etree.parse(str(SCHEMAS / "domain.rng")))


@pytest.mark.corpus
def test_the_corpus_is_there():
    assert len(DOCUMENTS) > 700
    assert {path.parent.name for path in DOCUMENTS} == {"generic", "qemu", "xen-xl", "xen-xm"}


def _read(path):
    return etree.tostring(etree.parse(str(path)).getroot(), encoding="unicode")


def test_every_document_round_trips():
    failures = []
    for path in DOCUMENTS:
        text = _read(path)
        domain = Domain.from_xml(text)
        if not xm.elements_equivalent(etree.fromstring(text), etree.fromstring(domain.to_xml())):
            failures.append(path.name)
        again = Domain.from_xml(domain.to_xml())
        if again.values() != domain.values():
            failures.append(path.name + " (values)")
    assert not failures, failures


def test_a_changed_field_leaves_everything_else(domain_schema):
    """Set memory and vcpu on every document: only those elements differ afterwards, and libvirt's own
    output documents (qemu/) that were valid stay valid."""
    failures = []
    for path in DOCUMENTS:
        original = etree.fromstring(_read(path))
        domain = Domain.from_xml(_read(path))
        if original.find("memory") is None:
            continue
        was_valid = path.parent.name == "qemu" and domain_schema.validate(original)
        domain.memory = 2 * 1024 * 1024
        domain.vcpu = 3
        rendered = etree.fromstring(domain.to_xml())
        for tag in ("memory", "vcpu"):
            for tree in (original, rendered):
                element = tree.find(tag)
                if element is not None:
                    element.getparent().remove(element)
        if not xm.elements_equivalent(original, rendered):
            failures.append(path.name)
        if was_valid and not domain_schema.validate(etree.fromstring(domain.to_xml())):
            failures.append("%s: %s" % (path.name, domain_schema.error_log.last_error))
    assert not failures, failures


@pytest.mark.corpus
def test_modelled_fields_read_from_the_corpus():
    """Spot checks that the typed fields read libvirt's real documents (units, devices, Xen PV)."""
    xen = [Domain.from_xml(_read(p)) for p in DOCUMENTS if p.parent.name.startswith("xen")]
    pv = [d for d in xen if d.os_type == "linux" and d.kernel]
    assert pv and all(d.type == "xen" and d.kernel.startswith("/") for d in pv)
    assert any(d.cmdline for d in pv)
    hvm = next(Domain.from_xml(_read(p)) for p in DOCUMENTS if p.parent.name == "xen-xm" and "<loader" in _read(p))
    assert hvm.os_type == "hvm" and hvm.loader
    for path in DOCUMENTS:
        domain = Domain.from_xml(_read(path))
        if domain.memory is not None:
            assert isinstance(domain.memory, int), path.name  # every unit libvirt writes is understood
        for interface in domain.interfaces:
            assert interface.mac is None or interface.mac == interface.mac.lower()

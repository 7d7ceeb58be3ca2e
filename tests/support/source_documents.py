"""The source documents: the XML examples of libvirt's domain XML format documentation (libvirt-format.html,
extracted from its <pre> blocks) and Red Hat's xenpv-win requirements."""
from __future__ import annotations

import pytest
from lxml import html

from tests.support.harness import SHARED_MISSING, SOURCE_DOCUMENTS


def source_document(name):
    """The path of a source document; a test module that reads one while loading is skipped when it is absent."""
    path = SOURCE_DOCUMENTS / name
    if not path.is_file():
        pytest.skip(SHARED_MISSING, allow_module_level=True)
    return path


def format_examples():
    """Every <pre> block of the format documentation that holds XML, as text, in document order ('...' lines
    removed)."""
    document = html.parse(str(source_document("libvirt-format.html")))
    blocks = []
    for pre in document.iter("pre"):
        text = pre.text_content().strip()
        if text.startswith("<"):
            blocks.append("\n".join(line for line in text.splitlines() if line.strip() != "..."))
    return blocks


def format_domains():
    """The full <domain> examples: Xen PV, Xen HVM, KVM, QEMU (plus the lifecycle snippet)."""
    return [block for block in format_examples() if block.startswith("<domain")]


def format_interfaces():
    """Each <interface> example of the networking section, one element per entry."""
    interfaces = []
    for block in format_examples():
        if block.startswith("<interface"):
            # One block of the documentation holds two interfaces side by side.
            interfaces.extend("<interface" + chunk.rstrip() for chunk in block.split("<interface")[1:])
    return interfaces


def format_capabilities():
    return [block for block in format_examples() if block.startswith("<capabilities")]


def fix_format_mac_quote(text):
    """The documentation writes <mac address="11:22:33:44:55:66:/> (no closing quote): not XML at all."""
    return text.replace('"11:22:33:44:55:66:/>', '"11:22:33:44:55:66:"/>')

"""The XML examples of the seed libvirt-format.html, extracted from its <pre> blocks."""
from __future__ import annotations

from lxml import html

from tests.support.harness import SEEDS


def seed_examples():
    """Every <pre> block of the seed that holds XML, as text, in document order ('...' lines removed)."""
    document = html.parse(str(SEEDS / "libvirt-format.html"))
    blocks = []
    for pre in document.iter("pre"):
        text = pre.text_content().strip()
        if text.startswith("<"):
            blocks.append("\n".join(line for line in text.splitlines() if line.strip() != "..."))
    return blocks


def seed_domains():
    """The full <domain> examples: Xen PV, Xen HVM, KVM, QEMU (plus the lifecycle snippet)."""
    return [block for block in seed_examples() if block.startswith("<domain")]


def seed_interfaces():
    """Each <interface> example of the networking section, one element per entry."""
    interfaces = []
    for block in seed_examples():
        if block.startswith("<interface"):
            # One block of the seed holds two interfaces side by side.
            interfaces.extend("<interface" + chunk.rstrip() for chunk in block.split("<interface")[1:])
    return interfaces


def seed_capabilities():
    return [block for block in seed_examples() if block.startswith("<capabilities")]


def fix_seed_mac_quote(text):
    """The seed writes <mac address="11:22:33:44:55:66:/> (no closing quote): not XML at all."""
    return text.replace('"11:22:33:44:55:66:/>', '"11:22:33:44:55:66:"/>')

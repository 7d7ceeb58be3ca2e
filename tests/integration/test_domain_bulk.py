"""The bulk form `domains:` on the daemon's test driver: one task, per-item outcome, mixed success and
failure, stop_on_error, check and diff mode per item, idempotence."""
from __future__ import annotations

import pytest

from tests.support.harness import run_module

pytestmark = pytest.mark.integration


def guest(name, **options):
    return dict({"name": name, "type": "xen", "memory": "128MiB", "os": {"type": "hvm"},
                 "disks": [{"source": "/var/lib/xen/%s.img" % name, "target": "hda"}]}, **options)


def defined(connection, name):
    return name in [domain.name() for domain in connection.listAllDomains()]


def test_mixed_success_and_failure(test_driver_uri, unique_name, libvirt_connection):
    conn = libvirt_connection(test_driver_uri)
    first, bad, last = unique_name("b"), unique_name("b"), unique_name("b")
    items = [guest(first), guest(bad, interfaces=[{"type": "bridge", "bridge": "br0", "mac": "11:22:33:44:55:66:"}]),
             guest(last, vcpu="2")]
    args = {"uri": test_driver_uri, "domains": items}

    predicted = run_module("domain", args, check_mode=True, diff=True)
    assert predicted.failed
    assert predicted["msg"].startswith("domains: 1 of 3 guests failed: %s: domains[1].interfaces[0].mac: " % bad)
    assert [(r["name"], r["changed"], r["failed"]) for r in predicted["results"]] == [
        (first, True, False), (bad, False, True), (last, True, False)]
    assert [d["before_header"] for d in predicted["diff"]] == [first, last]
    assert not any(defined(conn, name) for name in (first, bad, last))  # check mode defined nothing

    applied = run_module("domain", args)
    assert applied.failed and "1 of 3 guests failed" in applied["msg"]
    # A failed task keeps every item's outcome but not its full XML, so that the messages stay readable.
    assert [sorted(r["domain"]) for r in applied["results"] if "domain" in r] == [
        ["autostart", "id", "name", "persistent", "state", "uuid"]] * 2
    assert defined(conn, first) and defined(conn, last) and not defined(conn, bad)
    assert conn.lookupByName(last).info()[3] == 2  # "2" converted to an int like the single form does

    items[1] = guest(bad)
    fixed = run_module("domain", {"uri": test_driver_uri, "domains": items, "state": "running"})
    assert fixed.changed and not fixed.failed
    assert [r["changes"] for r in fixed["results"]][0::2] == [["state"], ["state"]]
    assert fixed["results"][1]["changes"][-2:] == ["domain", "state"]  # created, every field listed, then started
    again = run_module("domain", {"uri": test_driver_uri, "domains": items, "state": "running"})
    assert not again.changed and all(r["changes"] == [] for r in again["results"])
    assert all("<name>%s</name>" % r["name"] in r["domain"]["xml"] for r in again["results"])  # kept on success
    again_check = run_module("domain", {"uri": test_driver_uri, "domains": items, "state": "running"},
                             check_mode=True)
    assert not again_check.changed

    # one item's own option wins over the task-level one
    items[0] = dict(items[0], state="paused")
    mixed_states = run_module("domain", {"uri": test_driver_uri, "domains": items, "state": "running"})
    assert [r["changed"] for r in mixed_states["results"]] == [True, False, False]
    assert mixed_states["results"][0]["domain"]["state"] == "paused"

    removed = run_module("domain", {"uri": test_driver_uri, "state": "absent",
                                    "domains": [{"name": n} for n in (first, bad, last)]})
    assert removed.changed and not any(defined(conn, name) for name in (first, bad, last))


def test_stop_on_error_and_item_validation(test_driver_uri, unique_name, libvirt_connection):
    conn = libvirt_connection(test_driver_uri)
    bad, good = unique_name("s"), unique_name("s")
    stopped = run_module("domain", {"uri": test_driver_uri, "stop_on_error": True,
                                    "domains": [guest(bad, bogus_option=1), guest(good)]})
    assert stopped.failed
    assert "1 of 2 guests failed (1 not attempted: stop_on_error)" in stopped["msg"]
    assert "domains[0]: unsupported parameter: bogus_option. Supported parameters include" in stopped["msg"]
    assert len(stopped["results"]) == 1 and not defined(conn, good)

    unnamed = run_module("domain", {"uri": test_driver_uri, "domains": [{"memory": 1024}]})
    assert unnamed.failed and "domains[0]: missing required arguments: name" in unnamed["msg"]

    twice = run_module("domain", {"uri": test_driver_uri, "domains": [guest(good), guest(good)]})
    assert twice.failed and twice["msg"] == "domains: the guest %s is listed more than once" % good
    assert not defined(conn, good)

    both = run_module("domain", {"uri": test_driver_uri, "name": good, "domains": [guest(good)]})
    assert both.failed and "mutually exclusive: name|domains" in both["msg"]

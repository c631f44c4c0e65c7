"""The checker's own test: histories with a known anomaly must be flagged, clean ones must not
(a checker that finds nothing proves nothing)."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checker  # noqa: E402
import schedule  # noqa: E402


def w(kind, value, start, end, ok=True):
    rec = {"op": "write", "kind": kind, "node": "a", "value": value, "start": start,
           "end": end, "ok": ok}
    if not ok:
        rec["error"] = "exit 1: timed out after 30 s"  # an outcome unknown, not a refusal
    return rec


def proxy(port, bypass, start, end, node="a"):
    v = {"mode": "custom" if port else "none", "address": "127.0.0.1" if port else "",
         "port": port, "bypass": bypass}
    return {"op": "read", "kind": "proxy_show", "node": node, "value": v, "start": start,
            "end": end, "ok": True}


def settings(ms, start, end):
    return {"op": "read", "kind": "settings_show", "node": "a", "ok": True, "start": start,
            "end": end, "value": {"standbyPromotionDelayMs": ms}}


def keys(g1, g2, start, end):
    return {"op": "read", "kind": "keys_show", "node": "a", "ok": True, "start": start,
            "end": end, "value": {"generation1": g1, "generation2": g2}}


class Checker(unittest.TestCase):
    def test_clean(self):
        h = [w("proxy_port", 20001, 1, 2), w("proxy_bypass", "x", 3, 4),
             w("settings_delay", 41, 5, 6, ok=False), proxy(20001, "x", 7, 8),
             settings(30000, 7, 8), settings(41000, 9, 10)]
        self.assertEqual(checker.check(h, [], ["a"]), [])

    def test_lost_acknowledged_write(self):
        h = [w("proxy_port", 20001, 1, 2), w("proxy_port", 20002, 3, 4)]
        a = checker.check(h, [proxy(20001, "", 10, 11)], ["a"])
        self.assertEqual(len(a), 1)
        self.assertIn("stale", a[0])

    def test_concurrent_writes_either_order(self):
        h = [w("settings_delay", 41, 1, 5), w("settings_delay", 42, 2, 4)]
        self.assertEqual(checker.check(h, [settings(41000, 6, 7)], ["a"]), [])
        self.assertEqual(checker.check(h, [settings(42000, 6, 7)], ["a"]), [])

    def test_phantom_value(self):
        a = checker.check([w("proxy_bypass", "x", 1, 2)], [proxy(0, "y", 3, 4)], ["a"])
        self.assertTrue(any("never written" in x for x in a))

    def test_a_partial_set_that_reset_other_fields(self):
        # F11: setting the bypass list must not drop the port set before it.
        h = [w("proxy_port", 20001, 1, 2), w("proxy_bypass", "x", 3, 4)]
        a = checker.check(h, [proxy(0, "x", 5, 6)], ["a"])
        self.assertTrue(any(x.startswith("port:") for x in a))

    def test_key_generations(self):
        h = [w("keys_regen", 1, 1, 2), w("keys_regen", 1, 3, 4, ok=False)]
        self.assertEqual(checker.check(h, [keys(2, 1, 5, 6)], ["a"]), [])
        self.assertEqual(checker.check(h, [keys(3, 1, 5, 6)], ["a"]), [])
        self.assertEqual(len(checker.check(h, [keys(1, 1, 5, 6)], ["a"])), 1)  # lost
        self.assertEqual(len(checker.check(h, [keys(4, 1, 5, 6)], ["a"])), 1)  # phantom

    def test_members_and_inconsistent_proxy(self):
        st = {"op": "read", "kind": "status", "node": "a", "ok": True, "start": 1, "end": 2,
              "value": {"nodes": [{"name": "a"}, {"name": "z"}]}}
        bad = proxy(20001, "", 1, 2)
        bad["value"]["mode"] = "none"
        a = checker.check([w("proxy_port", 20001, 0, 0.5), st, bad], [], ["a", "b"])
        self.assertEqual(len(a), 2)
        # Catching up after a restart: itself alone, Limited, is fine; Online is not.
        st["value"]["nodes"] = [{"name": "a", "status": "Limited"}]
        self.assertEqual(checker.check([st], [], ["a", "b"]), [])
        st["value"]["nodes"] = [{"name": "a", "status": "Online"}]
        self.assertEqual(len(checker.check([st], [], ["a", "b"])), 1)

    def test_refusals(self):
        lost = w("proxy_port", 20001, 1, 2, ok=False)
        lost["error"] = "exit 1: shir proxy set: no leader"
        bad = w("proxy_port", 20002, 1, 2, ok=False)
        bad["error"] = "exit 1: shir proxy set: invalid argument"
        moved = w("settings_delay", 61, 1, 2, ok=False)
        moved["error"] = "exit 1: shir settings set: leadership changed during the read "
        # The agent killed -9 while the CLI was sending its request (bench seed 15).
        killed = w("settings_delay", 62, 1, 2, ok=False)
        killed["error"] = "exit 1: shir settings set: cannot send to the agent: Broken pipe "
        a = checker.check([lost, bad, moved, killed], [], ["a"])
        self.assertEqual(len(a), 1)
        self.assertIn("invalid argument", a[0])

    def test_extra_passes_through(self):
        self.assertEqual(checker.check([], [], ["a"], ["exits: b exited 134"]),
                         ["exits: b exited 134"])


def run(scan, rid, start, end, ok=True, error=None):
    rec = {"op": "write", "kind": "scan_run", "node": "a", "value": scan, "start": start,
           "end": end, "ok": ok}
    if ok:
        rec["run"], rec["scan"] = rid, scan
    else:
        rec["error"] = error or "exit 1: timed out after 30 s"
    return rec


def cancel(rid, start, end, ok=True):
    rec = {"op": "write", "kind": "scan_cancel", "node": "a", "value": rid, "start": start,
           "end": end, "ok": ok}
    if not ok:
        rec["error"] = "exit 1: shir scan cancel: BUSY: run %d already ended (succeeded)" % rid
    return rec


def R(rid, scan, state, error=None):
    return {"id": rid, "scan": scan, "state": state, "error": error, "node": "b", "attempt": 1}


def runs_read(rs, start, end):
    return {"op": "read", "kind": "scan_runs", "node": "a", "ok": True, "start": start,
            "end": end, "value": rs}


TREE = ['{"qualifiedName":"file://HOST/t/a.txt"}', '{"qualifiedName":"file://HOST/t/b.txt"}']


def parts(rid, lines, scan="t0", success=True):
    return {str(rid): {"scan": scan, "success": success, "lines": list(lines)}}


class Runs(unittest.TestCase):
    def check(self, history, final, prts):
        return checker.check_runs(history, {"final": final, "parts": prts,
                                            "expected": {"t0": TREE, "t1": TREE}})

    def test_clean(self):
        h = [run("t0", 1, 1, 2), run("t0", 0, 3, 4, ok=False,
                                     error="exit 1: BUSY: scan t0 already has an active run 1"),
             run("t1", 2, 3, 4), cancel(2, 5, 6), cancel(1, 5, 6, ok=False),
             runs_read([R(2, "t1", "running"), R(1, "t0", "running")], 4, 5)]
        final = [R(2, "t1", "cancelled"), R(1, "t0", "succeeded")]
        self.assertEqual(self.check(h, final, parts(1, reversed(TREE))), [])
        # The BUSY refusal and the cancel of an ended run are not refusals of the whole check.
        self.assertEqual(checker.check(h, [], ["a"], (), {"final": final, "parts": parts(1, TREE),
                                                          "expected": {"t0": TREE}}), [])

    def test_unknown_outcome_may_create_one_run(self):
        h = [run("t0", 0, 1, 2, ok=False)]
        self.assertEqual(self.check(h, [], {}), [])
        self.assertEqual(self.check(h, [R(5, "t0", "succeeded")], parts(5, TREE)), [])
        a = self.check(h, [R(5, "t0", "failed", "x"), R(6, "t0", "failed", "x")], {})
        self.assertEqual(len(a), 1)
        self.assertIn("phantom", a[0])

    def test_phantom_from_nowhere(self):
        a = self.check([runs_read([R(9, "t1", "queued")], 1, 2)], [], {})
        self.assertEqual(len(a), 1)
        self.assertIn("phantom", a[0])
        a = self.check([], [], parts(7, TREE))  # a run directory no scan run made
        self.assertEqual(len(a), 1)

    def test_acknowledged_run_lost_or_stuck(self):
        h = [run("t0", 1, 1, 2), run("t1", 2, 1, 2), run("t0", 3, 3, 4)]
        a = self.check(h, [R(2, "t1", "running"), R(3, "t1", "failed", "x")], {})
        self.assertEqual(len(a), 3)  # 1 missing, 2 not terminal, 3 under another scan
        self.assertTrue(any("not listed" in x for x in a))
        self.assertTrue(any("still running" in x for x in a))
        self.assertTrue(any("acknowledged for scan t0" in x for x in a))

    def test_failed_needs_a_reason_and_cancel_must_stick(self):
        h = [run("t0", 1, 1, 2), run("t1", 2, 1, 2), cancel(2, 3, 4)]
        a = self.check(h, [R(1, "t0", "failed"), R(2, "t1", "succeeded")], parts(2, TREE, "t1"))
        self.assertEqual(len(a), 2)
        self.assertTrue(any("without a reason" in x for x in a))
        self.assertTrue(any("cancel was acknowledged" in x for x in a))

    def test_two_active_runs(self):
        h = [run("t0", 1, 1, 2), run("t0", 2, 1, 2),
             runs_read([R(2, "t0", "queued"), R(1, "t0", "running")], 3, 4)]
        final = [R(2, "t0", "cancelled"), R(1, "t0", "cancelled")]
        a = self.check(h, final, {})
        self.assertEqual(len(a), 1)
        self.assertIn("active", a[0])

    def test_results_exactly_once(self):
        h = [run("t0", 1, 1, 2)]
        final = [R(1, "t0", "succeeded")]
        self.assertEqual(self.check(h, final, parts(1, TREE)), [])
        for bad in (TREE + TREE[:1], TREE[:1], TREE + ['{"qualifiedName":"file://HOST/z"}']):
            a = self.check(h, final, parts(1, bad))
            self.assertEqual(len(a), 1, bad)
            self.assertIn("results", a[0])
        self.assertIn("_SUCCESS", self.check(h, final, parts(1, TREE, success=False))[0])
        self.assertIn("no parts", self.check(h, final, {})[0])
        # A failed or cancelled run may leave partial parts: only succeeded runs are judged.
        self.assertEqual(self.check(h, [R(1, "t0", "cancelled")], parts(1, TREE[:1])), [])

    def test_host_normalised(self):
        self.assertEqual(checker.normalise('{"qualifiedName":"file://node-b/t/a.txt","x":1}\n'),
                         '{"qualifiedName":"file://HOST/t/a.txt","x":1}')
        self.assertEqual(checker.normalise('{"qualifiedName":"file:///t/a.txt"}'),
                         '{"qualifiedName":"file://HOST/t/a.txt"}')


class Schedule(unittest.TestCase):
    def test_a_seed_fixes_the_schedule(self):
        self.assertEqual(schedule.make(7, netns=True), schedule.make(7, netns=True))
        self.assertNotEqual(schedule.make(7)["faults"], schedule.make(8)["faults"])

    def test_loopback_has_no_network_faults(self):
        kinds = {f["kind"] for s in range(20) for f in schedule.make(s)["faults"]}
        self.assertFalse(kinds & {"cut", "isolate", "loss"})


if __name__ == "__main__":
    unittest.main()

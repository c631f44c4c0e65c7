#!/usr/bin/env python3
"""A strict little checker of Prometheus text exposition format 0.0.4, for shir's /metrics.

Reads the exposition on stdin. Fails (exit 1, the reason on stderr) unless:
- every line is `# HELP name text`, `# TYPE name type` or `name[{labels}] value`;
- every name matches [a-zA-Z_:][a-zA-Z0-9_:]* and starts with "shir_";
- each family has exactly one HELP and one TYPE, both before its first sample, and its samples
  are contiguous (a family is never split);
- TYPE is counter or gauge; a counter's name ends in _total; a counter's value is >= 0;
- label names are valid, label values are quoted with only \\\\, \\" and \\n escapes;
- no series (name + label set) appears twice; every value parses as a float.
On success prints one JSON object: {"samples": N, "series": {"name{a=\\"b\\"}": value, ...},
"families": {name: type}} for the test to assert on.
"""
import json
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"


def fail(lineno, msg):
    sys.stderr.write("prom_check: line %d: %s\n" % (lineno, msg))
    sys.exit(1)


def parse_labels(lineno, text):
    """text is what is inside the braces; returns a sorted tuple of (name, value)."""
    labels = []
    i = 0
    while i < len(text):
        m = re.match(LABEL, text[i:])
        if not m:
            fail(lineno, "bad label name at %r" % text[i:])
        name = m.group(0)
        i += len(name)
        if text[i:i + 2] != '="':
            fail(lineno, "label %s: expected =\"" % name)
        i += 2
        value = []
        while True:
            if i >= len(text):
                fail(lineno, "label %s: unterminated value" % name)
            c = text[i]
            if c == "\\":
                nxt = text[i + 1:i + 2]
                if nxt not in ("\\", '"', "n"):
                    fail(lineno, "label %s: bad escape \\%s" % (name, nxt))
                value.append({"\\": "\\", '"': '"', "n": "\n"}[nxt])
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == "\n":
                fail(lineno, "label %s: raw newline" % name)
            else:
                value.append(c)
                i += 1
        if any(n == name for n, _ in labels):
            fail(lineno, "label %s twice" % name)
        labels.append((name, "".join(value)))
        if i < len(text):
            if text[i] != ",":
                fail(lineno, "expected , between labels")
            i += 1
    return tuple(sorted(labels))


def main():
    text = sys.stdin.read()
    if not text.endswith("\n"):
        fail(0, "the exposition must end with a newline")
    helps, types, seen_families, done_families = {}, {}, [], set()
    series = {}
    current = None
    for lineno, line in enumerate(text.split("\n")[:-1], 1):
        if line.startswith("#"):
            m = re.match(r"^# (HELP|TYPE) (" + NAME + r") (.+)$", line)
            if not m:
                fail(lineno, "bad comment line %r" % line)
            kind, name, rest = m.groups()
            if name in done_families or name in series:
                fail(lineno, "%s for %s after its samples" % (kind, name))
            table = helps if kind == "HELP" else types
            if name in table:
                fail(lineno, "second %s for %s" % (kind, name))
            if kind == "TYPE" and rest not in ("counter", "gauge"):
                fail(lineno, "type %r of %s (shir exports counters and gauges)" % (rest, name))
            table[name] = rest
            continue
        m = re.match(r"^(" + NAME + r")(\{(.*)\})? (\S+)$", line)
        if not m:
            fail(lineno, "bad sample line %r" % line)
        name, _, labeltext, value = m.groups()
        if not name.startswith("shir_"):
            fail(lineno, "%s is not shir_-prefixed" % name)
        if name not in helps or name not in types:
            fail(lineno, "%s has no HELP and TYPE before its samples" % name)
        if name != current:
            if name in done_families:
                fail(lineno, "the samples of %s are split" % name)
            if current:
                done_families.add(current)
            current = name
            seen_families.append(name)
        if types[name] == "counter" and not name.endswith("_total"):
            fail(lineno, "counter %s does not end in _total" % name)
        try:
            v = float(value)
        except ValueError:
            fail(lineno, "value %r is not a number" % value)
        if types[name] == "counter" and v < 0:
            fail(lineno, "counter %s is negative" % name)
        labels = parse_labels(lineno, labeltext) if labeltext else ()
        key = name + ("{" + ",".join('%s="%s"' % kv for kv in labels) + "}" if labels else "")
        if key in series:
            fail(lineno, "series %s twice" % key)
        series[key] = v
    for name in types:
        if name not in seen_families:
            fail(0, "family %s has no sample" % name)
    json.dump({"samples": len(series), "series": series, "families": types}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# A rolling upgrade, half-way and done. shir_next is this build reporting another version, and
# gossiping like a newer one: one more field in every record and one more element in every
# message (SHIR_TEST_GOSSIP_NEXT_FIELDS), which the older nodes must skip — were they to refuse
# it, they would never hear the newer ones and show them Offline. A node that runs a version
# fewer live members run than another is Limited ("minority version"), on every node; each node
# restarted on the new binary keeps its data and its membership; once the new version is the
# common one the last old node is the Limited one; when all run it, all are Online and the
# runtime takes writes throughout.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
: "${SHIR_NEXT_BIN:?SHIR_NEXT_BIN must name the shir_next binary}"
old=$("$SHIR_BIN" --version | awk 'NR==1{print $2}')
new=$("$SHIR_NEXT_BIN" --version | awk 'NR==1{print $2}')
[ -n "$old" ] && [ -n "$new" ] && [ "$old" != "$new" ] || fail "versions '$old' and '$new'"

# everywhere PYEXPR WHAT: every running node's status satisfies PYEXPR (within a deadline).
everywhere() { local n; for n in a b c; do expect_view 20 "$n" "$1" "$2"; done; }
# upgrade NAME: stop its agent (SIGTERM: a clean stop, exit 0, nothing leaked under ASan) and
# start it again on the new binary.
upgrade() {
    stop "$1"
    AGENT_BIN=$SHIR_NEXT_BIN start "$1"
}
is() { echo "s['$1']['status']=='$2' and s['$1']['version']=='$3'"; }

start a; start b
AGENT_BIN=$SHIR_NEXT_BIN start c
form a mixed b c >/dev/null
everywhere "$(is a Online "$old") and $(is b Online "$old") and $(is c Limited "$new") \
and s['c']['why']=='minority version (most run $old)'" "c should be the minority"

upgrade b
everywhere "$(is a Limited "$old") and $(is b Online "$new") and $(is c Online "$new") \
and s['a']['why']=='minority version (most run $new)'" "a should be the minority after b's upgrade"
"$SHIR_BIN" keys regenerate key2 --data-dir "$tmp/b" >/dev/null || fail "no writes half-way: $(logs)"

upgrade a
everywhere "all(n['status']=='Online' and n['version']=='$new' for n in s.values()) and len(s)==3" \
    "not all Online on the new version"
"$SHIR_BIN" keys regenerate key1 --data-dir "$tmp/a" >/dev/null || fail "no writes after the upgrade: $(logs)"
pass

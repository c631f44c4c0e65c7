#!/usr/bin/env bash
# Finding F9 of "Hold under attack and faults": wrong join proofs. One session carries one
# proof; an address that fails 5 proofs within 60 s backs off (1 s, doubling to 30 s) and the
# refusal says when to retry, also through `shir join`; the refusals' log lines are
# rate-limited, so a hammering client cannot fill the disk; a few failed joins and then a good
# one from the same address still work, and another address is not held back.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
attack="$(dirname "$0")/join_attack.py"

for n in n1 n2 n3; do start $n; done
key=$(form n1 proofs)
forged=$(python3 "$attack" forge "$key") || fail "cannot forge a key"
[ "$forged" != "$key" ] || fail "the forged key is the key"

# One proof per session: two in one write get one answer (the refusal), then the end.
out=$(python3 "$attack" twoproofs --port "${PORT[n1]}" --key "$key" --source 127.0.0.3) ||
    fail "twoproofs: $out"
[ "$(json_get "$out" 'd["hello"]==1 and [a[0] for a in d["answers"]]==[2] and d["answers"][0][2]==-20013')" = True ] ||
    fail "a session answered more than one proof: $out"

# Hammering wrong proofs from 127.0.0.2, one session each: a handful are checked, the rest are
# refused before any check with a time to retry; the log grows by a few lines, not megabytes.
log_before=$(wc -c <"$tmp/n1.log")
out=$(python3 "$attack" proofs --port "${PORT[n1]}" --key "$key" --source 127.0.0.2 --sessions 800) ||
    fail "proofs: $out"
checked=$(json_get "$out" 'd["counts"].get("prove-error -20013", 0)')
backoff=$(json_get "$out" 'd["counts"].get("hello-error -20029", 0) + d["counts"].get("prove-error -20029", 0)')
[ "$checked" -ge 5 ] && [ "$checked" -le 20 ] || fail "$checked wrong proofs were checked: $out"
[ "$backoff" -ge 750 ] || fail "only $backoff attempts were refused for back-off: $out"
expect_match "$(json_get "$out" 'd["samples"]["hello-error -20029"]')" \
    '^too many failed join attempts from 127\.0\.0\.2; retry in [0-9]+ s$' "back-off refusal"
grown=$(( $(wc -c <"$tmp/n1.log") - log_before ))
[ "$grown" -le 32768 ] || fail "800 refused joins added $grown bytes to the log"
grep -q 'refused: wrong key' "$tmp/n1.log" || fail "no refusal was logged at all"
# What the limit dropped is said by the next line it lets through (one interval, 5 s, later):
# one more refused attempt per try until that line is there.
wait_until 30 bash -c "python3 '$attack' proofs --port '${PORT[n1]}' --key '$key' --source 127.0.0.2 >/dev/null &&
    grep -q 'similar lines suppressed' '$tmp/n1.log'" || fail "no line says what was suppressed"

# From 127.0.0.1, not held back by 127.0.0.2: four failed joins, then the right key joins.
for i in 1 2 3 4; do
    err=$("$SHIR_BIN" join --key "$forged" --data-dir "$tmp/n2" 2>&1) && fail "a forged key joined"
    expect_match "$err" "not accepted" "forged key, attempt $i"
done
"$SHIR_BIN" join --key "$key" --data-dir "$tmp/n2" >/dev/null || fail "the right key after 4 failures: $(logs)"

# From 127.0.0.1 again: failures until the refusal that `shir join` shows says when to retry
# (blocks double, so a retry lands inside one within a few attempts), then the right key works
# once the block is over.
seen=
for i in $(seq 1 12); do
    err=$("$SHIR_BIN" join --key "$forged" --data-dir "$tmp/n3" 2>&1) && fail "a forged key joined"
    if printf '%s\n' "$err" | grep -Eq 'too many failed join attempts from 127\.0\.0\.1; retry in [0-9]+ s'; then
        seen=$i; break
    fi
done
[ -n "$seen" ] || fail "shir join never said when to retry: $err"
[ "$seen" -ge 6 ] || fail "back-off after only $seen failures: $err"
wait_until 60 "$SHIR_BIN" join --key "$key" --data-dir "$tmp/n3" || fail "the right key after the back-off: $(logs)"
expect_view 30 n1 "len(d['nodes'])==3" "n2 and n3 are not both members"
pass

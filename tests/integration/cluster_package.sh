#!/usr/bin/env bash
# Issue 12's "done when": the Debian package, built here with `cpack -G DEB` from the configured
# build tree and unpacked with `dpkg-deb -x` into a temporary root (no dpkg -i), holds what an
# operator installs; three hosts in network namespaces (10.x addresses) run its binary with
# per-host copies of its /etc/shir/shir.conf (no per-node flags: listen stays the package's
# 0.0.0.0:8060), form a runtime and fail over when the leader dies.
set -u
. "$(dirname "$0")/lib.sh"
: "${SHIR_BUILD_DIR:?SHIR_BUILD_DIR must name the configured build tree}"
for t in cpack dpkg-deb dpkg-shlibdeps; do
    command -v $t >/dev/null || { echo "SKIP [$TEST_NAME]: $t is not installed"; exit 77; }
done
. "$(dirname "$0")/netns_lib.sh"

# Build and unpack the package.
cpack --config "$SHIR_BUILD_DIR/CPackConfig.cmake" -G DEB -B "$tmp/pkg" >"$tmp/cpack.log" 2>&1 ||
    fail "cpack: $(tail -20 "$tmp/cpack.log")"
ver=$("$SHIR_BIN" --version | head -n 1 | awk '{print $2}')
deb=$(ls "$tmp"/pkg/shir_*_"$(dpkg --print-architecture)".deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || fail "no shir_<version>_<arch>.deb in $(ls "$tmp/pkg")"
case "$(basename "$deb")" in shir_"$ver"_*) ;; *) fail "package $(basename "$deb") is not version $ver" ;; esac
root=$tmp/root
dpkg-deb -x "$deb" "$root" || fail "dpkg-deb -x"
dpkg-deb -e "$deb" "$tmp/control" || fail "dpkg-deb -e"
[ -x "$root/usr/bin/shir" ] || fail "no /usr/bin/shir"
[ -f "$root/lib/systemd/system/shir.service" ] || fail "no lib/systemd/system/shir.service"
[ -f "$root/etc/shir/shir.conf" ] || fail "no /etc/shir/shir.conf"
grep -qx /etc/shir/shir.conf "$tmp/control/conffiles" || fail "shir.conf is not a conffile"
depends=$(dpkg-deb -f "$deb" Depends)
expect_match "$depends" "libraft0 \(>= 0\.22\)" "Depends"
expect_match "$depends" "libuv1" "Depends (from dpkg-shlibdeps)"
expect_match "$depends" "libinih1" "Depends (from dpkg-shlibdeps)"
# libsmbclient is dlopen'd for smb:// sources, not linked: named by hand, and not NEEDED.
expect_match "$depends" "libsmbclient \(>= 2:4\.12\.0\)" "Depends (dlopen'd libsmbclient)"
grep -q "adduser --system" "$tmp/control/postinst" || fail "the postinst creates no system user"
grep -q "install -d -m 0700 -o shir -g shir /var/lib/shir" "$tmp/control/postinst" ||
    fail "the postinst does not make /var/lib/shir 0700 for shir"
grep -q '^ExecStart=/usr/bin/shir agent --config /etc/shir/shir.conf$' "$root/lib/systemd/system/shir.service" ||
    fail "the unit does not run the packaged binary with the packaged config"
bin=$root/usr/bin/shir
"$bin" --version >/dev/null || fail "the packaged binary does not run"
! readelf -d "$bin" | grep -q 'NEEDED.*libsmbclient' || fail "the packaged binary links libsmbclient"

# Three hosts, each with its copy of the packaged config: only advertise, node_name and data_dir
# change (the last because the hosts share this machine's disk).
host a 10.77.10.1; host b 10.77.10.2; host c 10.77.10.3
link a b; link b c; link a c
for n in a b c; do
    sed -e "s|^# advertise = .*|advertise = ${ADDR[$n]}:8060|" -e "s|^# node_name = .*|node_name = $n|" \
        -e "s|^data_dir = .*|data_dir = $tmp/$n|" -e "s|^log_level = .*|log_level = debug|" \
        "$root/etc/shir/shir.conf" >"$tmp/$n.conf"
    grep -q "^listen = 0.0.0.0:8060$" "$tmp/$n.conf" || fail "the packaged config does not listen on 0.0.0.0:8060"
done
start_host() {
    ip netns exec "$tag-$1" "$bin" agent --config "$tmp/$1.conf" 2>>"$tmp/$1.log" &
    PID[$1]=$!; pids+=("$!")
    wait_until 20 "$bin" status --data-dir "$tmp/$1" || fail "$1 did not start: $(tail -5 "$tmp/$1.log")"
}
for n in a b c; do start_host $n; done
SHIR_BIN=$bin form a pkg b c >/dev/null
all_online="len(s)==3 and all(n['status']=='Online' for n in s.values())"
for n in a b c; do
    expect_view 20 $n "$all_online and d['leader'] is not None and s['$n']['address']=='${ADDR[$n]}:8060'" \
        "runtime not formed on $n"
done

# Failover: the leader dies; the two others elect a new one and take writes.
old=$(json_get "$(st a)" 'd["leader"]')
others=(); for n in a b c; do [ "$n" = "$old" ] || others+=("$n"); done
crash "$old"
expect_view 20 "${others[0]}" "d['leader'] in ('${others[0]}', '${others[1]}') and s['$old']['status']=='Offline'" \
    "no new leader after $old died"
wait_until 20 "$bin" keys regenerate key2 --data-dir "$tmp/${others[1]}" || fail "no writes after failover: $(logs)"
# It comes back from its config file alone and rejoins.
start_host "$old"
for n in a b c; do expect_view 30 $n "$all_online" "$old did not rejoin"; done
pass

#!/usr/bin/env bash
# The status page at / in a real headless Chromium (Debian's `chromium`): on a 2-node loopback
# runtime it must show both nodes with their status, role and liveness, loaded live from
# /v1/status by its script (the HTML the agent sends has no node rows at all), and follow a
# change: once n2 is stopped, the page shown by n1 says so. Skips (77) only without chromium.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY no_proxy NO_PROXY all_proxy ALL_PROXY
chrome=$(command -v chromium || command -v chromium-browser || true)
[ -n "$chrome" ] || { echo "SKIP [$TEST_NAME]: chromium is not installed (deploy/install-deps.sh installs it)"; exit 77; }
declare -A HP

# dom NAME: the page's DOM after its script ran (virtual time lets its first fetch and render
# finish). --no-sandbox: the test may run as root, where Chromium's sandbox refuses to start.
dom() {
    timeout 60 "$chrome" --headless --no-sandbox --disable-gpu --no-first-run \
        --user-data-dir="$tmp/chrome-$1" --virtual-time-budget=5000 \
        --dump-dom "http://127.0.0.1:${HP[$1]}/" 2>>"$tmp/chrome.log"
}
# shows NAME PYEXPR: the rows of the page on NAME satisfy PYEXPR over r (node name -> its
# data-* attributes and cell texts) and loaded (the script marked the page loaded).
shows() {
    dom "$1" >"$tmp/dom.html" || return 1
    python3 - "$tmp/dom.html" "$2" <<'EOF'
import sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.rows = {}; self.row = None; self.cell = None; self.loaded = False
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body" and a.get("data-loaded") == "1":
            self.loaded = True
        if tag == "tr" and "data-node" in a:
            self.row = {k[5:]: v for k, v in a.items() if k.startswith("data-")}
            self.row["cells"] = []; self.rows[a["data-node"]] = self.row
        if tag == "td" and self.row is not None:
            self.cell = ""
    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data
    def handle_endtag(self, tag):
        if tag == "td" and self.row is not None and self.cell is not None:
            self.row["cells"].append(self.cell); self.cell = None
        if tag == "tr":
            self.row = None
p = P(); p.feed(open(sys.argv[1]).read())
r, loaded = p.rows, p.loaded
sys.exit(0 if eval(sys.argv[2]) else 1)
EOF
}
start_http() { local n=$1; shift; HP[$n]=$(free_port); start "$n" --http-listen "127.0.0.1:${HP[$n]}" "$@"; }

start_http n1
start_http n2
# What the agent sends holds no node: whatever rows Chromium shows, its script made them.
curl -sSf "http://127.0.0.1:${HP[n1]}/" | grep -q 'data-node="n' && fail "the page was served with rows in it"

key=$(form n1 page n2)
expect_view 30 n1 's["n1"]["status"]=="Online" and s["n2"]["status"]=="Online"' "both online"
want='loaded and set(r) == {"n1", "n2"} and all(r[n]["status"] == "Online" and r[n]["role"] == "voter" and r[n]["liveness"] == "alive" and n in r[n]["cells"] for n in r)'
wait_until 60 shows n2 "$want" || fail "the page on n2 does not show both nodes online: $(cat "$tmp/dom.html") $(tail -5 "$tmp/chrome.log")"
# The same rows on n1's page, with the runtime's name and the leader in the summary.
wait_until 60 shows n1 "$want" || fail "the page on n1: $(cat "$tmp/dom.html")"
grep -q '<span id="runtime">page (' "$tmp/dom.html" || fail "no runtime name on the page: $(cat "$tmp/dom.html")"
grep -q '<b id="leader">n1</b>' "$tmp/dom.html" || fail "no leader on the page"

# A change reaches the page: n2 stops, and n1's page shows it not Online.
stop n2
wait_until 60 shows n1 'loaded and r["n2"]["status"] != "Online" and r["n1"]["status"] != ""' ||
    fail "the page on n1 still shows n2 online: $(cat "$tmp/dom.html")"
pass

# Shared by the SMB benchmarks (sourced after they set SHIR, N and R): the test suite's helpers,
# a scratch directory $T (removed on exit, with the Samba server), a fresh password $pw, and
#   smb_share_tree      serve $T/tree read-only as [share] to $SMB_USER (smbd from Debian's
#                       samba, started on loopback by tests/integration/smb_lib.sh)
#   run_local SRC LVL   `shir scan run-local` of SRC (a path, or smb:// with the password on
#                       stdin) at level LVL into $T/out.jsonl; prints its --json summary
#   now_ms              wall clock in ms
# Not a test.
HERE=$(cd "$(dirname "$0")" && pwd)
SHIR_BIN=$SHIR
. "$HERE/../tests/integration/lib.sh"
. "$HERE/../tests/integration/smb_lib.sh"
T=$(mktemp -d /tmp/shir-bench-smb.XXXXXX)
chmod 755 "$T"
SMB_PID=
trap 'smb_cleanup; rm -rf "$T"' EXIT
pw="bench-$(date +%s%N)"

now_ms() { date +%s%3N; }

smb_share_tree() {
    chmod -R a+rX "$T/tree"
    smb_start "$T/smb" "[share]
  path = $T/tree
  read only = yes
  valid users = $SMB_USER"
    printf '%s\n' "$pw" | smb_user "$T/smb"
}

run_local() {
    local src=$1 level=$2
    if [ "${src#smb://}" != "$src" ]; then
        printf '%s\n' "$pw" | "$SHIR" scan run-local "$src" --user "$SMB_USER" \
            --password-file - --level "$level" --json --sink "jsonl:$T/out.jsonl" 2>/dev/null
    else
        "$SHIR" scan run-local "$src" --level "$level" --json --sink "jsonl:$T/out.jsonl" 2>/dev/null
    fi
}

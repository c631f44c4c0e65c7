# A Samba server for tests and benchmarks, from Debian's `samba` package: its own smb.conf and
# private, lock, state, cache and pid directories under a temporary directory, on 127.0.0.1 and a
# free port, no NetBIOS, no printers, the system's instance neither used nor touched. Source
# lib.sh first. smbd needs root (it becomes the share's user for each session).

# The Unix account the Samba user maps to: Debian's `daemon` (uid 1) exists everywhere, so the
# tests create no account on the machine.
SMB_USER=daemon

# smb_start DIR SHARES [GLOBAL-LINES]: write DIR/smb.conf with the share sections SHARES (text),
# start `smbd --foreground` logging to DIR/smbd.log, wait until it accepts connections. Sets
# SMB_PORT and SMB_PID.
smb_start() {
    local dir=$1 shares=$2 extra=${3:-} d
    command -v smbd >/dev/null || fail "smbd not found (deploy/install-deps.sh installs samba)"
    [ "$(id -u)" -eq 0 ] || fail "smbd must run as root (it switches to the user of each session)"
    for d in lock state cache pid private ncalrpc; do mkdir -p "$dir/$d"; done
    SMB_PORT=$(free_port)
    cat >"$dir/smb.conf" <<EOF
[global]
  server role = standalone server
  interfaces = 127.0.0.1
  bind interfaces only = yes
  smb ports = $SMB_PORT
  disable netbios = yes
  lock directory = $dir/lock
  state directory = $dir/state
  cache directory = $dir/cache
  pid directory = $dir/pid
  private dir = $dir/private
  ncalrpc dir = $dir/ncalrpc
  passdb backend = tdbsam:$dir/private/passdb.tdb
  load printers = no
  printing = bsd
  printcap name = /dev/null
  disable spoolss = yes
  map to guest = never
  log level = 1
$extra
$shares
EOF
    # Without --no-process-group: smbd leads a process group of its own, so the SIGTERM it sends
    # its group when it shuts down reaches its children, not this test.
    smbd --foreground --debug-stdout -s "$dir/smb.conf" >"$dir/smbd.log" 2>&1 &
    SMB_PID=$!
    wait_until 30 python3 -c "import socket; socket.create_connection(('127.0.0.1', $SMB_PORT), 1)" ||
        fail "smbd did not start: $(tail -n 5 "$dir/smbd.log")"
}

# smb_user DIR: add $SMB_USER to DIR's passdb with the password on stdin (never in argv).
smb_user() {
    local pw
    IFS= read -r pw
    printf '%s\n%s\n' "$pw" "$pw" | smbpasswd -c "$1/smb.conf" -a -s "$SMB_USER" >/dev/null ||
        fail "smbpasswd -a $SMB_USER"
}

# smb_stop: SIGTERM; fails the test on a crash. smbd ends a clean shutdown by signalling its
# own process group with SIGTERM, itself included, so 143 (128 + SIGTERM) is its clean exit; a
# crash is SIGSEGV/SIGABRT (139/134) or an error status. smb_cleanup: for an EXIT trap.
smb_stop() {
    [ -n "${SMB_PID:-}" ] || return 0
    kill -TERM "$SMB_PID" 2>/dev/null
    wait "$SMB_PID"; local rc=$?
    SMB_PID=
    [ "$rc" -eq 0 ] || [ "$rc" -eq 143 ] || fail "smbd exited $rc"
}
smb_cleanup() {
    [ -n "${SMB_PID:-}" ] && kill -TERM "$SMB_PID" 2>/dev/null && wait "$SMB_PID" 2>/dev/null
    return 0
}

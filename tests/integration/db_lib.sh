# Database servers for tests and benchmarks, started from Debian's packages into a temporary
# directory, on a loopback port, as an unprivileged user (the package's own `postgres` or
# `mysql` account when we run as root; ourselves otherwise). Nothing of the system's instances is
# used or touched. Source lib.sh first. Every start waits on readiness with a deadline.

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}

# as_user USER CMD...: run CMD as USER when we are root, as ourselves otherwise.
as_user() {
    local u=$1; shift
    if [ "$(id -u)" -eq 0 ]; then runuser -u "$u" -- "$@"; else "$@"; fi
}

# pg_start DIR PORT [EXTRA postgres -c options...]: initdb into DIR/data (superuser `admin`,
# trust over DIR's Unix socket only, scram-sha-256 over TCP), start on 127.0.0.1:PORT logging
# every statement with its application name to DIR/server.log. Sets PG_PID (what we started:
# runuser's process when root, whose exit status is the server's) and PG_SRV (the postmaster,
# which gets the signals: runuser does not pass SIGINT on).
pg_start() {
    local dir=$1 port=$2; shift 2
    [ -x "$PG_BIN/initdb" ] || fail "PostgreSQL server binaries not found (deploy/install-deps.sh)"
    mkdir -p "$dir/data" "$dir/sock"
    [ "$(id -u)" -eq 0 ] && chown -R postgres "$dir"
    as_user postgres "$PG_BIN/initdb" -D "$dir/data" -U admin --auth-local=trust \
        --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
        fail "initdb: $(tail -n 5 "$dir/initdb.log")"
    as_user postgres "$PG_BIN/postgres" -D "$dir/data" -p "$port" -h 127.0.0.1 -k "$dir/sock" \
        -c fsync=off -c log_statement=all -c "log_line_prefix=%a|" "$@" \
        >"$dir/server.log" 2>&1 &
    PG_PID=$!
    wait_until 60 "$PG_BIN/pg_isready" -q -h "$dir/sock" -p "$port" ||
        fail "postgres did not start: $(tail -n 5 "$dir/server.log")"
    PG_SRV=$(head -n 1 "$dir/data/postmaster.pid")
}

# pg_sql DIR PORT DB: run SQL from stdin as `admin` over the socket; stop at the first error.
pg_sql() {
    as_user postgres "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$1/sock" -p "$2" -U admin \
        -d "$3" -At
}

# pg_stop: fast shutdown; fails the test on a crash (postgres exits 0 on SIGINT).
# db_cleanup: for an EXIT trap: stop whichever server is still up, without judging it.
db_cleanup() {
    [ -n "${PG_SRV:-}" ] && [ -n "${PG_PID:-}" ] && kill -INT "$PG_SRV" 2>/dev/null
    [ -n "${MY_SRV:-}" ] && [ -n "${MY_PID:-}" ] && kill -TERM "$MY_SRV" 2>/dev/null
    [ -n "${PG_PID:-}" ] && wait "$PG_PID" 2>/dev/null
    [ -n "${MY_PID:-}" ] && wait "$MY_PID" 2>/dev/null
    return 0
}

pg_stop() {
    [ -n "${PG_PID:-}" ] || return 0
    kill -INT "$PG_SRV" 2>/dev/null
    wait "$PG_PID"; local rc=$?
    PG_PID=
    [ "$rc" -eq 0 ] || fail "postgres exited $rc"
}

# my_start DIR PORT [EXTRA mariadbd options...]: mariadb-install-db into DIR/data, start mariadbd on 127.0.0.1:PORT with its
# socket in DIR and the general log (every statement) in DIR/general.log. The account named
# like the Unix user running the server (MY_USER) authenticates over the socket as that user. Sets MY_PID (what we
# started, as PG_PID) and MY_SRV (mariadbd itself).
my_start() {
    local dir=$1 port=$2 user=mysql
    shift 2
    [ "$(id -u)" -eq 0 ] || user=$(id -un)
    MY_USER=$user
    command -v mariadbd >/dev/null || fail "mariadbd not found (deploy/install-deps.sh)"
    mkdir -p "$dir/data"
    [ "$(id -u)" -eq 0 ] && chown -R mysql "$dir"
    as_user mysql mariadb-install-db --no-defaults --datadir="$dir/data" --user="$user" \
        --skip-test-db --auth-root-authentication-method=socket >"$dir/install.log" 2>&1 ||
        fail "mariadb-install-db: $(tail -n 5 "$dir/install.log")"
    as_user mysql mariadbd --no-defaults --datadir="$dir/data" --port="$port" \
        --bind-address=127.0.0.1 --socket="$dir/my.sock" --pid-file="$dir/my.pid" \
        --user="$user" --skip-name-resolve --innodb-flush-log-at-trx-commit=0 \
        --general-log=1 --general-log-file="$dir/general.log" --log-error="$dir/error.log" \
        "$@" &
    MY_PID=$!
    wait_until 60 as_user mysql mariadb-admin --no-defaults --socket="$dir/my.sock" -u"$user" ping ||
        fail "mariadbd did not start: $(tail -n 5 "$dir/error.log")"
    MY_SRV=$(cat "$dir/my.pid")
}

# my_sql DIR [DB]: run SQL from stdin as MY_USER (all privileges) over the socket.
my_sql() {
    as_user mysql mariadb --no-defaults --socket="$1/my.sock" -u"$MY_USER" -N -B ${2:+"$2"}
}

# my_stop: SIGTERM is mariadbd's clean shutdown; it exits 0.
my_stop() {
    [ -n "${MY_PID:-}" ] || return 0
    kill -TERM "$MY_SRV" 2>/dev/null
    wait "$MY_PID"; local rc=$?
    MY_PID=
    [ "$rc" -eq 0 ] || fail "mariadbd exited $rc"
}

# make_tls_certs DIR NAME: a CA and a server certificate for NAME signed by it, in DIR
# (ca.pem, server.pem, server.key), plus a second CA (other-ca.pem) that signed nothing.
make_tls_certs() {
    local d=$1 name=$2
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/ca.key" -out "$d/ca.pem" -days 2 \
        -subj "/CN=shir test CA" >/dev/null 2>&1 || fail "openssl: CA"
    openssl req -newkey rsa:2048 -nodes -keyout "$d/server.key" -out "$d/server.csr" \
        -subj "/CN=$name" >/dev/null 2>&1 || fail "openssl: CSR"
    printf 'subjectAltName=DNS:%s\n' "$name" >"$d/san.ext"
    openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
        -out "$d/server.pem" -days 2 -extfile "$d/san.ext" >/dev/null 2>&1 || fail "openssl: sign"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/other-ca.key" -out "$d/other-ca.pem" \
        -days 2 -subj "/CN=another CA" >/dev/null 2>&1 || fail "openssl: other CA"
    chmod 600 "$d/server.key"
}

#!/usr/bin/env bash
# One command for a developer machine (Debian 12 with Python 3.11 is enough):
#
#   bash deploy/dev.sh up   [args for `motcua up`]   run everything (e.g. --demo)
#   bash deploy/dev.sh test [pytest args]            ruff, then pytest
#
# It creates .venv, installs the project (again only when pyproject.toml changed),
# makes sure RabbitMQ (and, for tests, its management API, pdftoppm and zbarimg and,
# with MOTCUA_TEST_DB=postgres, PostgreSQL) is installed and running, installing them
# with apt-get when we are root. Set AMQP_URI to a non-loopback broker to skip the local one.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

STAMP=.venv/.motcua-installed

say() { printf 'dev.sh: %s\n' "$*" >&2; }
die() { printf 'dev.sh: error: %s\n' "$*" >&2; exit 1; }

usage() {
    cat >&2 <<'EOF'
usage: bash deploy/dev.sh up   [args for `motcua up`, e.g. --demo --replicas processing=2]
       bash deploy/dev.sh test [pytest args, e.g. -q -k intake]
EOF
    exit 2
}

is_root() { [ "$(id -u)" -eq 0 ]; }

# port_open HOST PORT: does HOST:PORT accept a TCP connection (within 2 s)?
port_open() {
    timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

# wait_port HOST PORT SECONDS: bounded wait until the port accepts connections.
wait_port() {
    local host=$1 port=$2 limit=$3 start=$SECONDS
    while (( SECONDS - start < limit )); do
        port_open "$host" "$port" && return 0
        sleep 1
    done
    port_open "$host" "$port"
}

apt_updated=
apt_install() {
    is_root || return 1
    command -v apt-get >/dev/null 2>&1 || return 1
    if [ -z "$apt_updated" ]; then
        say "apt-get update ..."
        apt-get update -q </dev/null || return 1
        apt_updated=1
    fi
    say "apt-get install $* ..."
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" </dev/null
}

# --- Python 3.11 and the virtualenv ---------------------------------------------------

is_py311() {
    "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' >/dev/null 2>&1
}

find_python() {
    local candidate
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 && is_py311 "$candidate"; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

ensure_venv() {
    if [ -e .venv ] && [ ! -x .venv/bin/python ]; then
        die ".venv exists but has no bin/python (a broken virtualenv?): remove it (rm -rf .venv) and run again"
    fi
    if [ ! -x .venv/bin/python ]; then
        local python
        python=$(find_python) || die "Python 3.11 not found (neither python3.11 nor python3 is 3.11): install it (Debian 12: apt-get install python3 python3-venv) and run again"
        if ! "$python" -c 'import venv, ensurepip' >/dev/null 2>&1; then
            say "$python has no venv/ensurepip module; installing python3-venv"
            apt_install python3-venv || die "the venv module is missing for $python and python3-venv could not be installed: install it (as root: apt-get install python3-venv) and run again"
            "$python" -c 'import venv, ensurepip' >/dev/null 2>&1 || die "$python still has no venv/ensurepip module after installing python3-venv (is it a non-Debian Python?): install its venv support and run again"
        fi
        say "creating .venv with $python"
        if ! "$python" -m venv .venv; then
            rm -rf .venv
            die "'$python -m venv .venv' failed (see above); fix that and run again"
        fi
    fi
    is_py311 .venv/bin/python || die ".venv is not Python 3.11 ($(.venv/bin/python --version 2>&1)): remove it (rm -rf .venv) and run again"
    if [ ! -e "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
        say "installing the project and its test tools into .venv (pip install -e '.[test]') ..."
        PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 .venv/bin/pip install -q -e '.[test]' </dev/null \
            || die "pip install -e '.[test]' failed (see above): check access to PyPI (or set PIP_INDEX_URL) and run again"
        touch "$STAMP"
    fi
}

# --- RabbitMQ --------------------------------------------------------------------------

# split_url URL DEFAULT_PORT: sets url_host and url_port (scheme://[user[:pw]@]host[:port]/...).
split_url() {
    local rest=$1
    url_host=127.0.0.1
    url_port=$2
    rest=${rest#*://}          # drop the scheme
    rest=${rest%%[/?]*}        # drop the path (vhost, database) and query
    rest=${rest##*@}           # drop user:password@
    if [[ $rest == \[*\]* ]]; then       # [ipv6]:port
        url_host=${rest%%]*}; url_host=${url_host#[}
        rest=${rest#*]}; rest=${rest#:}
        url_port=${rest:-$2}
    elif [[ $rest == *:* ]]; then
        url_host=${rest%%:*}; url_port=${rest##*:}
    else
        url_host=$rest
    fi
    url_host=${url_host:-127.0.0.1}
    [[ $url_port =~ ^[0-9]+$ ]] || url_port=$2
}

# Host and port of AMQP_URI (default pyamqp://guest:guest@127.0.0.1:5672//).
amqp_host=127.0.0.1
amqp_port=5672
parse_amqp_uri() {
    [ -n "${AMQP_URI:-}" ] || return 0
    split_url "$AMQP_URI" 5672
    amqp_host=$url_host
    amqp_port=$url_port
}

is_loopback() {
    case "$1" in
        localhost|localhost.|127.*|::1|0:0:0:0:0:0:0:1) return 0 ;;
        *) return 1 ;;
    esac
}

rabbitmq_server() {
    if command -v rabbitmq-server >/dev/null 2>&1; then
        command -v rabbitmq-server
    elif [ -x /usr/sbin/rabbitmq-server ]; then
        echo /usr/sbin/rabbitmq-server
    else
        return 1
    fi
}

rabbitmq_plugins() {
    if command -v rabbitmq-plugins >/dev/null 2>&1; then
        command -v rabbitmq-plugins
    elif [ -x /usr/sbin/rabbitmq-plugins ]; then
        echo /usr/sbin/rabbitmq-plugins
    else
        return 1
    fi
}

broker_fail() {
    printf 'dev.sh: error: RabbitMQ is not reachable on 127.0.0.1:%s and could not be started: %s.\n' \
        "$amqp_port" "$1" >&2
    printf 'dev.sh: start it yourself (rabbitmq-server -detached), install it (as root: apt-get install rabbitmq-server), or set AMQP_URI to a running broker.\n' >&2
    exit 1
}

start_rabbitmq() {
    local server
    server=$(rabbitmq_server) || return 1
    say "starting RabbitMQ ($server -detached) ..."
    "$server" -detached </dev/null >&2 || say "'$server -detached' failed; waiting for the port anyway"
}

ensure_rabbitmq() {
    parse_amqp_uri
    if ! is_loopback "$amqp_host"; then
        say "AMQP_URI points to $amqp_host; not managing a local RabbitMQ"
        return 0
    fi
    port_open 127.0.0.1 "$amqp_port" && return 0
    if rabbitmq_server >/dev/null; then
        start_rabbitmq
        wait_port 127.0.0.1 "$amqp_port" 60 && return 0
        broker_fail "it was started (rabbitmq-server -detached) but port $amqp_port did not open within 60 s; see /var/log/rabbitmq/"
    fi
    is_root || broker_fail "rabbitmq-server is not installed and we are not root to install it"
    apt_install rabbitmq-server || broker_fail "apt-get install rabbitmq-server failed (see above)"
    # The package may have started it already (policy-rc.d permitting).
    wait_port 127.0.0.1 "$amqp_port" 10 && return 0
    start_rabbitmq || broker_fail "rabbitmq-server is still missing after apt-get install"
    wait_port 127.0.0.1 "$amqp_port" 60 && return 0
    broker_fail "it was installed and started but port $amqp_port did not open within 60 s; see /var/log/rabbitmq/"
}

# Redis holds the gateway's rate-limit counters (shared by replicas). The gateway runs
# without it (limits not enforced, and logged); the tests need it.
ensure_redis() {
    local required=$1
    port_open 127.0.0.1 6379 && return 0
    local server
    server=$(command -v redis-server || true)
    if [ -z "$server" ] && is_root && command -v apt-get >/dev/null 2>&1; then
        apt_install redis-server || true
        server=$(command -v redis-server || true)
    fi
    if [ -n "$server" ]; then
        say "starting Redis on 127.0.0.1:6379 ..."
        "$server" --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
            </dev/null >&2 || true
        wait_port 127.0.0.1 6379 20 && return 0
    fi
    local message="Redis is not reachable on 127.0.0.1:6379 and could not be started (install redis-server, or start it)"
    if [ "$required" = yes ]; then
        die "$message; the tests need it for the gateway's rate limits"
    fi
    say "warning: $message; the gateway will run without rate limits"
}

ensure_rabbitmq_management() {
    is_loopback "$amqp_host" || return 0
    port_open 127.0.0.1 15672 && return 0
    local plugins
    plugins=$(rabbitmq_plugins) \
        || die "the RabbitMQ management API (127.0.0.1:15672, used by the tests for per-test vhosts) is not reachable and rabbitmq-plugins is not installed: enable the rabbitmq_management plugin on your broker"
    say "enabling the RabbitMQ management plugin ..."
    timeout 60 "$plugins" enable rabbitmq_management </dev/null >&2 \
        || die "'rabbitmq-plugins enable rabbitmq_management' failed (see above): run it yourself (as root) and run again"
    wait_port 127.0.0.1 15672 30 \
        || die "the management plugin is enabled but 127.0.0.1:15672 did not open within 30 s: check /var/log/rabbitmq/, or restart RabbitMQ"
}

# --- Tools the tests run: pdftoppm renders the legal forms, zbarimg reads their QR codes,
# node runs the tracking page's script ----------------------------------------------------

ensure_test_tools() {
    local missing=()
    command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
    command -v zbarimg >/dev/null 2>&1 || missing+=(zbar-tools)
    command -v node >/dev/null 2>&1 || missing+=(nodejs)
    [ ${#missing[@]} -eq 0 ] && return 0
    if apt_install "${missing[@]}" && command -v pdftoppm >/dev/null 2>&1 \
            && command -v zbarimg >/dev/null 2>&1 && command -v node >/dev/null 2>&1; then
        return 0
    fi
    local message="the form and page tests need pdftoppm, zbarimg and node; install ${missing[*]} (as root: apt-get install ${missing[*]}) and run again"
    case "${CI:-}" in
        ""|0|[Ff]alse|[Nn]o) say "warning: $message; without them those tests are skipped" ;;
        *) die "$message (with CI set, a skipped test fails the run)" ;;
    esac
}

# --- PostgreSQL (tests with MOTCUA_TEST_DB=postgres) ----------------------------------

pg_ok() {
    if command -v psql >/dev/null 2>&1; then
        PGCONNECT_TIMEOUT=3 psql "$MOTCUA_TEST_PG_URL" -X -q -t -c 'select 1' </dev/null >/dev/null 2>&1
    else
        .venv/bin/python - "$MOTCUA_TEST_PG_URL" >/dev/null 2>&1 <<'EOF'
import sys, psycopg2
psycopg2.connect(sys.argv[1], connect_timeout=3).close()
EOF
    fi
}

pg_error() {
    if command -v psql >/dev/null 2>&1; then
        PGCONNECT_TIMEOUT=3 psql "$MOTCUA_TEST_PG_URL" -X -q -t -c 'select 1' </dev/null 2>&1 >/dev/null | head -3
    fi
}

pg_fail() {
    printf 'dev.sh: error: PostgreSQL is not usable at %s: %s.\n' "$MOTCUA_TEST_PG_URL" "$1" >&2
    printf 'dev.sh: start it (pg_ctlcluster --skip-systemctl-redirect <version> main start), allow the postgres user from 127.0.0.1 with trust auth in pg_hba.conf, or set MOTCUA_TEST_PG_URL (or unset MOTCUA_TEST_DB to test on SQLite).\n' >&2
    exit 1
}

pg_version() {
    [ -d /etc/postgresql ] || return 1
    local version
    version=$(ls /etc/postgresql 2>/dev/null | head -1)
    [ -n "$version" ] && echo "$version"
}

wait_pg() {
    local limit=$1 start=$SECONDS
    while (( SECONDS - start < limit )); do
        pg_ok && return 0
        sleep 1
    done
    pg_ok
}

start_pg() {
    local version
    version=$(pg_version) || return 1
    say "starting PostgreSQL $version (pg_ctlcluster) ..."
    pg_ctlcluster --skip-systemctl-redirect "$version" main start </dev/null >&2 \
        || say "pg_ctlcluster $version main start failed (see above)"
}

# A fresh Debian cluster asks for a password on 127.0.0.1; the tests connect as
# postgres without one. Only on a local cluster, only as root, and only when the
# server refuses us for authentication: trust 127.0.0.1 and ::1 (dev machine).
allow_trust_auth() {
    is_root || return 1
    local version hba
    version=$(pg_version) || return 1
    hba=/etc/postgresql/$version/main/pg_hba.conf
    [ -f "$hba" ] || return 1
    pg_error | grep -qiE 'password|authentication' || return 1
    say "PostgreSQL refuses postgres@127.0.0.1 without a password; adding trust for 127.0.0.1 and ::1 at the top of $hba (development machine)"
    sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
    pg_ctlcluster --skip-systemctl-redirect "$version" main reload </dev/null >&2 || return 1
    wait_pg 10
}

ensure_postgres() {
    export MOTCUA_TEST_PG_URL=${MOTCUA_TEST_PG_URL:-postgresql://postgres@127.0.0.1:5432/postgres}
    pg_ok && return 0
    split_url "$MOTCUA_TEST_PG_URL" 5432
    local pg_host=$url_host pg_port=$url_port
    if ! is_loopback "$pg_host"; then
        pg_fail "the server $pg_host:$pg_port does not answer ($(pg_error | tr '\n' ' '))"
    fi
    if port_open 127.0.0.1 "$pg_port"; then
        allow_trust_auth && return 0
        pg_fail "the server answers on $pg_port but refuses the connection ($(pg_error | tr '\n' ' '))"
    fi
    if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! pg_version >/dev/null; then
        is_root || pg_fail "PostgreSQL is not installed and we are not root to install it (apt-get install postgresql)"
        apt_install postgresql || pg_fail "apt-get install postgresql failed (see above)"
        pg_version >/dev/null || pg_fail "no cluster under /etc/postgresql after apt-get install postgresql (create one: pg_createcluster 15 main)"
        # The package may have started it already (policy-rc.d permitting).
        wait_port 127.0.0.1 "$pg_port" 5 || true
    fi
    port_open 127.0.0.1 "$pg_port" || start_pg || true
    wait_port 127.0.0.1 "$pg_port" 30 || pg_fail "it did not listen on 127.0.0.1:$pg_port within 30 s (see /var/log/postgresql/)"
    wait_pg 10 && return 0
    allow_trust_auth && return 0
    pg_fail "it runs but refuses the connection ($(pg_error | tr '\n' ' '))"
}

# --- main ------------------------------------------------------------------------------

[ $# -ge 1 ] || usage
command=$1
shift
case "$command" in
    up|test) ;;
    -h|--help|help) usage ;;
    *) say "unknown command '$command'"; usage ;;
esac

ensure_venv
ensure_rabbitmq

if [ "$command" = up ]; then
    ensure_redis no
    exec .venv/bin/motcua up "$@"
fi

ensure_redis yes
ensure_rabbitmq_management
ensure_test_tools
# tests/drills run their own RabbitMQ node and PostgreSQL cluster from the packaged scripts
{ [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || apt_install rabbitmq-server; } && { compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || apt_install postgresql; } || die "the drills (tests/drills) need rabbitmq-server and postgresql installed (as root: apt-get install rabbitmq-server postgresql)"
if [ "${MOTCUA_TEST_DB:-}" = postgres ]; then
    ensure_postgres
fi
say "ruff check ..."
.venv/bin/ruff check . || die "ruff found problems (above): fix them (many: .venv/bin/ruff check --fix .) and run again"
exec .venv/bin/python -m pytest "$@"

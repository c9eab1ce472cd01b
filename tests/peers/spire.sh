#!/usr/bin/env bash
# A real SPIRE server for the suites that check bundled against SPIRE (issue 13 §3): built
# from the pinned module tests/peers/spire (tests/peers/build.sh), run on loopback with its own
# state directory, an SQLite datastore, an in-memory key manager and its admin API on a Unix
# socket. TLS is a test CA made per directory (never a system CA): SPIRE's own bundle endpoint
# serves the https_web profile with a certificate from it, and SPIRE trusts it (SSL_CERT_FILE
# in its environment) when it fetches a federated domain's bundle from bundled.
#
#   tests/peers/spire.sh ca DIR                 makes DIR/ca.pem and DIR/ca.key (the test CA)
#   tests/peers/spire.sh cert DIR NAME          makes DIR/NAME.pem and DIR/NAME.key, a serving
#                                               certificate for 127.0.0.1 and localhost from
#                                               the test CA (e.g. for bundled --tls-cert)
#   eval "$(tests/peers/spire.sh start DIR)"    makes the CA if missing, writes DIR/server.conf,
#                                               starts spire-server and waits until its bundle
#                                               endpoint answers, then prints on stdout only:
#       BUNDLED_TEST_SPIRE_PATH        DIR
#       BUNDLED_TEST_SPIRE_SOCKET      its admin API socket
#       BUNDLED_TEST_SPIRE_BUNDLE_URL  its own bundle endpoint (https_web), https://127.0.0.1:PORT
#       BUNDLED_TEST_SPIRE_CA          the test CA, which signed that endpoint's certificate
#   tests/peers/spire.sh server DIR ARGS...     spire-server ARGS on that server's admin socket,
#                                               e.g. `server DIR bundle show -format spiffe`
#   tests/peers/spire.sh stop DIR               stops it (the directory stays: the caller's)
#
# What `start` configures, from the environment:
#   SPIRE_TRUST_DOMAIN   SPIRE's own trust domain (default spire.test)
#   SPIRE_CA_TTL         its CA's lifetime (default 24h); SPIRE prepares the next CA at half of
#                        it and activates it at 5/6, checking every 10 s, so "1m" makes it add
#                        an authority to its bundle (a new spiffe_sequence) about every 30 s
#   SPIRE_REFRESH_HINT   the spiffe_refresh_hint its bundle endpoint announces (default 1m, the
#                        least SPIRE accepts without a warning)
#   SPIRE_FEDERATES_WITH "TD URL": federate with trust domain TD whose bundle is at URL, over
#                        the https_web profile (SPIRE refreshes it at a quarter of the
#                        bundle's spiffe_refresh_hint, at least every 15 s)
#   BUNDLED_TEST_PEERS_BIN  the built peers (else tests/peers/build.sh builds or finds them)
#   BUNDLED_TEST_SPIRE_WAIT seconds to wait for the server (default 60)
# State in DIR: server.conf, data/ (datastore.sqlite3), server.pid, server.log, bundle_url (the
# endpoint's URL, for programs that do not eval), bin, ca.*, serving.*.
set -euo pipefail

who=spire
# shellcheck source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

make_ca() {
	local dir=$1
	[ -f "$dir/ca.pem" ] && return 0
	mkdir -p "$dir"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=bundled test CA" -addext "basicConstraints=critical,CA:true" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		-keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null || die "openssl could not make the test CA"
	chmod 600 "$dir/ca.key"
}

make_cert() {
	local dir=$1 name=$2
	make_ca "$dir"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
		-keyout "$dir/$name.key" -out "$dir/$name.csr" 2>/dev/null &&
		openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -days 1 \
			-extfile <(printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" \
				"basicConstraints=critical,CA:false" "keyUsage=critical,digitalSignature" \
				"extendedKeyUsage=serverAuth") \
			-out "$dir/$name.pem" 2>/dev/null || die "openssl could not make $dir/$name.pem"
	rm -f "$dir/$name.csr"
	chmod 600 "$dir/$name.key"
}

write_conf() {
	local dir=$1 port=$2 bundle_port=$3 fed_td fed_url
	{
		cat <<EOF
server {
	bind_address = "127.0.0.1"
	bind_port = "$port"
	socket_path = "$dir/api.sock"
	trust_domain = "${SPIRE_TRUST_DOMAIN:-spire.test}"
	data_dir = "$dir/data"
	log_level = "DEBUG"
	ca_key_type = "ec-p256"
	ca_ttl = "${SPIRE_CA_TTL:-24h}"
	default_x509_svid_ttl = "10s"
	default_jwt_svid_ttl = "10s"
	federation {
		bundle_endpoint {
			address = "127.0.0.1"
			port = $bundle_port
			refresh_hint = "${SPIRE_REFRESH_HINT:-1m}"
			profile "https_web" {
				serving_cert_file {
					cert_file_path = "$dir/serving.pem"
					key_file_path = "$dir/serving.key"
					file_sync_interval = "1h"
				}
			}
		}
EOF
		if [ -n "${SPIRE_FEDERATES_WITH:-}" ]; then
			read -r fed_td fed_url <<<"$SPIRE_FEDERATES_WITH"
			cat <<EOF
		federates_with "$fed_td" {
			bundle_endpoint_url = "$fed_url"
			bundle_endpoint_profile "https_web" {}
		}
EOF
		fi
		cat <<EOF
	}
}
plugins {
	DataStore "sql" {
		plugin_data {
			database_type = "sqlite3"
			connection_string = "$dir/data/datastore.sqlite3"
		}
	}
	KeyManager "memory" {
		plugin_data {}
	}
	NodeAttestor "join_token" {
		plugin_data {}
	}
}
EOF
	} >"$dir/server.conf"
}

# wait_ready DIR PORT PID: until the bundle endpoint answers over https_web.
wait_ready() {
	local dir=$1 port=$2 pid=$3 deadline
	deadline=$(($(date +%s) + ${BUNDLED_TEST_SPIRE_WAIT:-60}))
	for (( ; ; )); do
		curl -sf --max-time 2 --cacert "$dir/ca.pem" -o /dev/null "https://127.0.0.1:$port/" && return 0
		alive "$pid" || return 1
		[ "$(date +%s)" -lt "$deadline" ] || return 1
		sleep 0.2
	done
}

start() {
	local dir=$1 bin attempt port bundle_port pid
	bin=$(peers_bin)
	[ -x "$bin/spire-server" ] || die "no spire-server in $bin (tests/peers/build.sh builds it)"
	mkdir -p "$dir/data"
	dir=$(cd "$dir" && pwd)
	printf '%s\n' "$bin" >"$dir/bin"
	make_ca "$dir"
	[ -f "$dir/serving.pem" ] || make_cert "$dir" serving
	for attempt in 1 2 3; do
		read -r port bundle_port <<<"$(free_ports "$bin" 2)"
		write_conf "$dir" "$port" "$bundle_port"
		# The test CA as its only trust store for the federated domain's https_web endpoint.
		spawn "$dir/server.log" "$dir/server.pid" env SSL_CERT_FILE="$dir/ca.pem" SSL_CERT_DIR=/nonexistent \
			"$bin/spire-server" run -config "$dir/server.conf"
		pid=$(cat "$dir/server.pid")
		if wait_ready "$dir" "$bundle_port" "$pid"; then
			printf '%s\n' "https://127.0.0.1:$bundle_port" >"$dir/bundle_url"
			printf 'export BUNDLED_TEST_SPIRE_PATH=%q\n' "$dir"
			printf 'export BUNDLED_TEST_SPIRE_SOCKET=%q\n' "$dir/api.sock"
			printf 'export BUNDLED_TEST_SPIRE_BUNDLE_URL=%q\n' "https://127.0.0.1:$bundle_port"
			printf 'export BUNDLED_TEST_SPIRE_CA=%q\n' "$dir/ca.pem"
			return 0
		fi
		stop_pidfile "$dir/server.pid"
		grep -q 'address already in use' "$dir/server.log" || break
		say "a port was taken before spire-server bound it; retrying ($attempt)"
	done
	say "spire-server did not start"
	log_tail "$dir/server.log"
	return 1
}

server() {
	local dir=$1
	shift
	[ -f "$dir/bin" ] || die "$dir is not a SPIRE state directory made by spire.sh start"
	"$(cat "$dir/bin")/spire-server" "$@" -socketPath "$dir/api.sock"
}

[ $# -ge 2 ] || die "usage: spire.sh ca|cert|start|server|stop DIR [...]"
cmd=$1
shift
case $cmd in
ca) make_ca "$1" ;;
cert) [ $# -eq 2 ] || die "usage: spire.sh cert DIR NAME"; make_cert "$1" "$2" ;;
start) start "$1" ;;
server) server "$@" ;;
stop) stop_pidfile "$1/server.pid" ;;
*) die "unknown command $cmd (ca, cert, start, server, stop)" ;;
esac

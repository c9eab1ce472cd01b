#!/usr/bin/env bash
# Regenerates the bundle test vectors in this directory with openssl (3.x) and coreutils.
# The outputs are committed; rerunning makes new keys, so every file changes together and
# the tests (which only rely on the properties described below) keep passing.
#
#   ca-p256.pem ca-p384.pem ca-p521.pem ca-rsa.pem ca-ed25519.pem
#                       self-signed v3 CAs (basicConstraints CA:TRUE), valid 2020..2045
#   root-v1.pem         self-signed v1 RSA root without extensions (like old certifi roots)
#   leaf.pem            CA:FALSE end-entity certificate issued by ca-p256
#   expired-ca.pem      CA valid 2020-01-01 .. 2021-01-01
#   future-ca.pem       CA valid from 2090-01-01
#   utf8-ca.pem         CA whose CN holds UTF-8 and a control byte (CN=caf\xc3\xa9\x01ca)
#   bundle.pem          ca-p256, ca-rsa and root-v1 with certifi-style comments between them
#   jwk-*.json          bare public JWKs (kty and key members only) of fresh keys
#   x509-*.json         x509-svid JWK of each CA above (key members + x5c)
#   valid.json          a SPIFFE bundle: every CA (also the expired one), 3 jwt-svid and
#                       1 wit-svid keys, spiffe_sequence 42, spiffe_refresh_hint 300
#   leaf.json           x509-svid entry holding the non-CA leaf
#   mismatch.json       x509-svid entry whose JWK key is not the x5c certificate's key
set -euo pipefail

out=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

b64url() { basenc --base64url -w0 | tr -d '='; }
b64() { base64 -w0; }

cat >req.cnf <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[leaf_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
subjectAltName = URI:spiffe://example.org/workload
EOF

cat >ca.cnf <<'EOF'
[ca]
default_ca = test_ca
[test_ca]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = supplied
EOF

key() { # key FILE ALG
	case $2 in
	p256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" ;;
	p384) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$1" ;;
	p521) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521 -out "$1" ;;
	rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" ;;
	ed25519) openssl genpkey -algorithm ED25519 -out "$1" ;;
	esac 2>/dev/null
}

ca() { # ca NAME ALG
	key "$1.key" "$2"
	openssl req -x509 -new -key "$1.key" -config req.cnf -extensions ca_ext \
		-subj "/O=bundled test/CN=$1" -days 7300 -out "$1.pem" 2>/dev/null
}

# A dated CA through `openssl ca`, the one tool of openssl 3.0 that takes explicit dates.
dated_ca() { # dated_ca NAME START END
	key "$1.key" p256
	openssl req -new -key "$1.key" -config req.cnf -subj "/O=bundled test/CN=$1" -out "$1.csr"
	: >index.txt
	echo 01 >serial
	openssl ca -batch -config ca.cnf -selfsign -keyfile "$1.key" -in "$1.csr" \
		-extfile req.cnf -extensions ca_ext -startdate "$2" -enddate "$3" -notext \
		-out "$1.pem" 2>/dev/null
}

# The JWK members of a public key in PEM: kty, crv and the coordinates (RFC 7518 §6).
jwk_members() { # jwk_members PUBKEY.pem
	local der=$1.der len
	openssl pkey -pubin -in "$1" -outform DER -out "$der"
	if openssl pkey -pubin -in "$1" -noout -text | grep -q 'ED25519'; then
		printf '"kty":"OKP","crv":"Ed25519","x":"%s"' "$(tail -c 32 "$der" | b64url)"
	elif openssl pkey -pubin -in "$1" -noout -text | grep -q 'NIST CURVE'; then
		local crv
		crv=$(openssl pkey -pubin -in "$1" -noout -text | sed -n 's/.*NIST CURVE: //p')
		case $crv in P-256) len=32 ;; P-384) len=48 ;; P-521) len=66 ;; esac
		tail -c $((2 * len + 1)) "$der" | tail -c $((2 * len)) >pt
		printf '"kty":"EC","crv":"%s","x":"%s","y":"%s"' "$crv" \
			"$(head -c "$len" pt | b64url)" "$(tail -c "$len" pt | b64url)"
	else
		local n
		n=$(openssl rsa -pubin -in "$1" -noout -modulus | sed 's/^Modulus=//')
		printf '"kty":"RSA","n":"%s","e":"AQAB"' "$(echo "$n" | xxd -r -p | b64url)"
	fi
}

x509_jwk() { # x509_jwk CERT.pem -> x509-svid JWK of the certificate
	openssl x509 -in "$1" -pubkey -noout >"$1.pub"
	printf '{"use":"x509-svid",%s,"x5c":["%s"]}' "$(jwk_members "$1.pub")" \
		"$(openssl x509 -in "$1" -outform DER | b64)"
}

bare_jwk() { # bare_jwk NAME ALG -> a fresh key's public JWK
	key "$1.key" "$2"
	openssl pkey -in "$1.key" -pubout -out "$1.pub"
	printf '{%s}' "$(jwk_members "$1.pub")"
}

for spec in ca-p256:p256 ca-p384:p384 ca-p521:p521 ca-rsa:rsa ca-ed25519:ed25519; do
	ca "${spec%%:*}" "${spec##*:}"
done

key root-v1.key rsa
openssl req -new -key root-v1.key -config req.cnf -subj "/O=bundled test/CN=root-v1" -out root-v1.csr
openssl x509 -req -in root-v1.csr -signkey root-v1.key -days 7300 -out root-v1.pem 2>/dev/null

key leaf.key p256
openssl req -new -key leaf.key -config req.cnf -subj "/O=bundled test/CN=leaf" -out leaf.csr
openssl x509 -req -in leaf.csr -CA ca-p256.pem -CAkey ca-p256.key -CAcreateserial \
	-extfile req.cnf -extensions leaf_ext -days 3650 -out leaf.pem 2>/dev/null

key utf8-ca.key p256
openssl req -x509 -new -utf8 -key utf8-ca.key -config req.cnf -extensions ca_ext \
	-subj $'/O=bundled test/CN=caf\xc3\xa9\x01ca' -days 7300 -out utf8-ca.pem 2>/dev/null

dated_ca expired-ca 20200101000000Z 20210101000000Z
dated_ca future-ca 20900101000000Z 20910101000000Z

for c in ca-p256 ca-p384 ca-p521 ca-rsa ca-ed25519 root-v1 leaf expired-ca future-ca utf8-ca; do
	openssl x509 -in "$c.pem" -out "$out/$c.pem"
done

{
	echo "##"
	echo "## Test bundle in the style of certifi's cacert.pem: comments and text between blocks."
	echo "##"
	for c in ca-p256 ca-rsa root-v1; do
		echo
		echo "# Subject: $(openssl x509 -in "$c.pem" -noout -subject | sed 's/^subject=//')"
		echo "# SHA256 Fingerprint: $(openssl x509 -in "$c.pem" -noout -fingerprint -sha256 | sed 's/.*=//')"
		openssl x509 -in "$c.pem"
	done
} >"$out/bundle.pem"

for j in p256:p256 p384:p384 p521:p521 rsa:rsa ed25519:ed25519 p256b:p256; do
	bare_jwk "jwk-${j%%:*}" "${j##*:}" >"$out/jwk-${j%%:*}.json"
	echo >>"$out/jwk-${j%%:*}.json"
done

for c in ca-p256 ca-p384 ca-p521 ca-rsa ca-ed25519 root-v1 expired-ca; do
	x509_jwk "$c.pem" >"$out/x509-$c.json"
	echo >>"$out/x509-$c.json"
done

# A SPIFFE bundle in the common pretty-printed style, keys not in canonical order.
with() { # with FILE USE [KID]: a JWK file with use (and kid) added in front
	local kid=""
	[ $# -gt 2 ] && kid="\"kid\":\"$3\","
	printf '    {"use":"%s",%s%s' "$2" "$kid" "$(sed 's/^{//' "$out/$1")"
}
{
	echo '{'
	echo '  "spiffe_sequence": 42,'
	echo '  "keys": ['
	with jwk-rsa.json jwt-svid "jwt-rsa"; echo ','
	sed 's/^/    /' "$out/x509-ca-rsa.json"; echo ','
	with jwk-p256.json jwt-svid "jwt-p256"; echo ','
	sed 's/^/    /' "$out/x509-ca-p256.json"; echo ','
	with jwk-p384.json wit-svid "wit-p384"; echo ','
	sed 's/^/    /' "$out/x509-ca-p384.json"; echo ','
	sed 's/^/    /' "$out/x509-ca-p521.json"; echo ','
	sed 's/^/    /' "$out/x509-ca-ed25519.json"; echo ','
	with jwk-ed25519.json jwt-svid "jwt-ed25519"; echo ','
	sed 's/^/    /' "$out/x509-root-v1.json"; echo ','
	sed 's/^/    /' "$out/x509-expired-ca.json"
	echo '  ],'
	echo '  "spiffe_refresh_hint": 300'
	echo '}'
} >"$out/valid.json"

openssl x509 -in leaf.pem -pubkey -noout >leaf.pub
{
	printf '{"keys":[\n'
	x509_jwk leaf.pem
	printf '\n]}\n'
} >"$out/leaf.json"

# The x5c certificate is ca-p256, the JWK members are jwk-p256's (same curve, other key).
{
	printf '{"keys":[\n{"use":"x509-svid",%s,"x5c":["%s"]}\n]}\n' \
		"$(sed 's/^{//; s/}$//' "$out/jwk-p256.json")" \
		"$(openssl x509 -in ca-p256.pem -outform DER | b64)"
} >"$out/mismatch.json"

echo "bundle vectors written to $out"

#!/usr/bin/env bash
# Regenerates the interoperability vectors in this directory: inputs on which bundled's
# strictness is compared with go-spiffe's (suite_peer_spiffe, tests/integration/
# test_peer_spiffe.c). Needs openssl (3.x) and python3; the outputs are committed.
#
#   ca-explicit-ec.pem      a P-256 CA whose key carries explicit EC parameters (issue 8 §3)
#   ca-negative-serial.pem  a P-256 CA with serial number -4660 (issue 8 §3)
#   ca-v1-p256.pem          a self-signed v1 certificate (no extensions) with a P-256 key
#   whitespace-only.pem     two blanks and two newlines: no certificate at all (issue 8 §3)
#   crlf-bundle.pem         ../bundle/bundle.pem with CRLF line ends
#   edit-*.json             ../bundle/valid.json with one member added or changed, each a
#                           case bundled accepts (unknown or ignored members, limits), but
#                           for the two x5t ones, which go-jose and, since issue 8 §3,
#                           bundled refuse
# The go-*.pem and go-*.json vectors, one per rule of Go's certificate and JWK readers, come
# from generate-go-x509.sh.
set -euo pipefail

out=$(cd "$(dirname "$0")" && pwd)
vec="$out/../bundle"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

cat >req.cnf <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
EOF

openssl ecparam -name prime256v1 -param_enc explicit -genkey -noout -out explicit.key
openssl req -x509 -new -key explicit.key -config req.cnf -extensions ca_ext \
	-subj "/O=bundled test/CN=explicit EC parameters" -days 7300 -out "$out/ca-explicit-ec.pem"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out p256.key 2>/dev/null
openssl req -x509 -new -key p256.key -config req.cnf -extensions ca_ext -set_serial -4660 \
	-subj "/O=bundled test/CN=negative serial" -days 7300 -out "$out/ca-negative-serial.pem"
openssl x509 -req -in <(openssl req -new -key p256.key -config req.cnf -subj "/O=bundled test/CN=v1 P-256") \
	-signkey p256.key -days 7300 -out "$out/ca-v1-p256.pem" 2>/dev/null

printf '  \n\n' >"$out/whitespace-only.pem"
sed 's/$/\r/' "$vec/bundle.pem" >"$out/crlf-bundle.pem"

python3 - "$vec/valid.json" "$out" <<'EOF'
import json, sys
base = json.load(open(sys.argv[1]))
x509 = next(i for i, k in enumerate(base["keys"]) if k["use"] == "x509-svid")
jwt = next(i for i, k in enumerate(base["keys"]) if k["use"] == "jwt-svid")
edits = {
    "x5t-s256-not-a-digest": (x509, "x5t#S256", "abc"),
    "x5t-not-a-digest": (x509, "x5t", "abc"),
    "kid-on-x509": (x509, "kid", "a-kid-on-an-x509-key"),
    "kid-on-x509-used-by-jwt": (x509, "kid", base["keys"][jwt]["kid"]),
    "alg-on-jwt": (jwt, "alg", "ES256"),
    "alg-mismatch-on-jwt": (jwt, "alg", "RS256"),
    "key-ops-on-jwt": (jwt, "key_ops", ["verify"]),
    "x5u-on-x509": (x509, "x5u", "https://example.org/ca.pem"),
    "sequence-max": (None, "spiffe_sequence", 18446744073709551615),
    "refresh-hint-zero": (None, "spiffe_refresh_hint", 0),
    "extension-member": (None, "spiffe_extension", {"spiffe_sequence": -1}),
}
for name, (index, member, value) in edits.items():
    doc = json.loads(json.dumps(base))
    (doc if index is None else doc["keys"][index])[member] = value
    with open(f"{sys.argv[2]}/edit-{name}.json", "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
EOF

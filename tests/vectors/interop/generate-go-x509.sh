#!/usr/bin/env bash
# Regenerates the go-*.pem and go-*.json vectors in this directory: one case each of a rule
# that Go's crypto/x509 parser (parseCertificate, as of Go 1.26) or go-jose's JWK reader
# applies and OpenSSL does not, so that bundled refuses what every Go consumer of a bundle
# (SPIRE, go-spiffe) would refuse (issue 8 §3). suite_peer_spiffe checks each against
# go-spiffe; tests/unit/bundled/test_bundle_go.c checks bundled's reason. Needs openssl (3.x)
# and python3; the outputs are committed. Most cases are DER edits of a valid CA made here:
# parsers do not check signatures, so an edited certificate keeps its (now wrong) signature.
#
#   go-rsa-no-null-params.pem   RSA key whose AlgorithmIdentifier omits the NULL parameters
#   go-ec-compressed-point.pem  P-256 key as a compressed point
#   go-ed25519-params.pem       Ed25519 key with (NULL) parameters
#   go-rsa-big-exponent.pem     RSA exponent 2^64+1, larger than Go's int
#   go-version-4.pem            version field 3 (X.509 v4)
#   go-sigalg-mismatch.pem      outer signature algorithm differs from the TBS one
#   go-time-invalid.pem         notAfter in month 13
#   go-time-fraction.pem        a GeneralizedTime notBefore with a fraction of a second
#   go-time-zero-offset.pem     a UTCTime notBefore with the offset "+0000" (Go wants "Z")
#   go-printable-invalid.pem    a PrintableString CN holding '@'
#   go-utf8-invalid.pem         a UTF8String CN that is not UTF-8
#   go-bmp-odd.pem              a BMPString CN of odd length
#   go-ia5-high.pem             an IA5String emailAddress holding a byte >= 0x80
#   go-name-integer.pem         a subject attribute (OID 1.2.3.4) whose value is an INTEGER
#   go-pathlen-negative.pem     basicConstraints pathLenConstraint -1
#   go-skid-critical.pem        subjectKeyIdentifier marked critical
#   go-akid-critical.pem        authorityKeyIdentifier marked critical
#   go-aia-critical.pem         authorityInfoAccess marked critical
#   go-policies-duplicate.pem   the same policy OID twice in certificatePolicies
#   go-san-uri-invalid.pem      a URI SAN that does not parse as a URL
#   go-san-ip-length.pem        an iPAddress SAN of 5 bytes
#   go-san-dns-nonascii.pem     a dNSName SAN with a byte >= 0x80
#   go-nc-empty.pem             nameConstraints with neither subtree
#   go-nc-trailing-dot.pem      a permitted DNS name constraint "example.org."
#   go-nc-ip-mask.pem           an IP constraint whose mask is not a prefix
#   go-nc-uri-ip.pem            a URI constraint that is an IP address
#   go-nc-email-invalid.pem     an rfc822Name constraint whose local part is not a dot-atom
#   go-crldp-invalid.pem        cRLDistributionPoints holding an INTEGER
#   go-jwk-*.json               ../bundle/valid.json with one x509-svid JWK member that
#                               go-jose reads and bundled drops (x5t, x5t#S256, x5u, kid,
#                               alg, ...) of a wrong type or value, or spelled in another
#                               case (Go matches JSON member names case-insensitively)
#   go-jwk-rsa-e-wraps.json     a jwt-svid RSA key with e = 2^64+3, which go-jose reads as 3
#   go-top-*.json               the same for top-level members ("Keys", "SPIFFE_SEQUENCE")
#   go-ok-time-*.pem            times Go reads: a "+0130" offset, no seconds
#   go-ok-*.json                the same kind of member with a value go-jose accepts (go-jose,
#                               unlike encoding/json, matches JWK member names exactly)
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
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[pathlen]
basicConstraints = critical,DER:30060101ff0201ff
[skid]
basicConstraints = critical,CA:TRUE
subjectKeyIdentifier = critical,hash
[akid]
basicConstraints = critical,CA:TRUE
subjectKeyIdentifier = hash
authorityKeyIdentifier = critical,keyid:always
[aia]
basicConstraints = critical,CA:TRUE
authorityInfoAccess = critical,OCSP;URI:http://ocsp.example.org/
[policies]
basicConstraints = critical,CA:TRUE
2.5.29.32 = DER:300c300406022a03300406022a03
[san_uri]
basicConstraints = critical,CA:TRUE
subjectAltName = URI:spiffe://example.org/%zz
[san_ip5]
basicConstraints = critical,CA:TRUE
2.5.29.17 = DER:30078705010203040a
[san_dns]
basicConstraints = critical,CA:TRUE
2.5.29.17 = DER:300982076361c3a92e6f7267
[nc_empty]
basicConstraints = critical,CA:TRUE
2.5.29.30 = critical,DER:3000
[nc_dot]
basicConstraints = critical,CA:TRUE
nameConstraints = critical,permitted;DNS:example.org.
[nc_mask]
basicConstraints = critical,CA:TRUE
nameConstraints = critical,permitted;IP:10.0.0.0/255.0.255.0
[nc_uri_ip]
basicConstraints = critical,CA:TRUE
nameConstraints = critical,permitted;URI:1.2.3.4
[nc_email]
basicConstraints = critical,CA:TRUE
nameConstraints = critical,permitted;email:a..b@example.org
[crldp]
basicConstraints = critical,CA:TRUE
2.5.29.31 = DER:3003020105
EOF

ca() { # ca OUT KEY EXT [SUBJ]
	openssl req -x509 -new -key "$2" -config req.cnf -extensions "$3" -subj "${4:-/O=bundled test/CN=go rule}" \
		-days 7300 -out "$1" 2>/dev/null
}

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out p256.key 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key 2>/dev/null
openssl genpkey -algorithm ED25519 -out ed.key
openssl ec -in p256.key -conv_form compressed -out p256c.key 2>/dev/null

ca "$out/go-ec-compressed-point.pem" p256c.key ca
ca "$out/go-pathlen-negative.pem" p256.key pathlen
for e in skid akid aia policies san_uri san_ip5 san_dns nc_empty nc_dot nc_mask nc_uri_ip nc_email crldp; do
	ca "$e.pem" p256.key "$e"
done
mv skid.pem "$out/go-skid-critical.pem"
mv akid.pem "$out/go-akid-critical.pem"
mv aia.pem "$out/go-aia-critical.pem"
mv policies.pem "$out/go-policies-duplicate.pem"
mv san_uri.pem "$out/go-san-uri-invalid.pem"
mv san_ip5.pem "$out/go-san-ip-length.pem"
mv san_dns.pem "$out/go-san-dns-nonascii.pem"
mv nc_empty.pem "$out/go-nc-empty.pem"
mv nc_dot.pem "$out/go-nc-trailing-dot.pem"
mv nc_mask.pem "$out/go-nc-ip-mask.pem"
mv nc_uri_ip.pem "$out/go-nc-uri-ip.pem"
mv nc_email.pem "$out/go-nc-email-invalid.pem"
mv crldp.pem "$out/go-crldp-invalid.pem"
ca rsa.pem rsa.key ca
ca ed.pem ed.key ca
ca p256.pem p256.key ca "/O=bundled test/CN=go rule xx"
ca p256-email.pem p256.key ca "/O=bundled test/emailAddress=ca@example.org"

python3 - "$out" "$vec/valid.json" <<'EOF'
import base64, hashlib, json, subprocess, sys

out, valid = sys.argv[1], sys.argv[2]

def parse(b, i=0, end=None):
    """A DER tree: [tag, bytes] for primitives, [tag, [children]] for constructed ones."""
    end = len(b) if end is None else end
    nodes = []
    while i < end:
        tag, n = b[i], b[i + 1]
        i += 2
        if n & 0x80:
            k = n & 0x7f
            n = int.from_bytes(b[i:i + k], "big")
            i += k
        v = b[i:i + n]
        nodes.append([tag, parse(v) if tag & 0x20 else v])
        i += n
    return nodes

def ser(nodes):
    out = b""
    for tag, v in nodes:
        body = ser(v) if isinstance(v, list) else v
        n = len(body)
        head = bytes([n]) if n < 0x80 else bytes([0x80 | ((n.bit_length() + 7) // 8)]) + n.to_bytes((n.bit_length() + 7) // 8, "big")
        out += bytes([tag]) + head + body
    return out

def read(name):
    return subprocess.run(["openssl", "x509", "-outform", "DER", "-in", name], check=True, capture_output=True).stdout

def write(name, der):
    b64 = base64.b64encode(der).decode()
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    with open(f"{out}/{name}", "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n")

def edit(src, name, fn):
    cert = parse(read(src))
    fn(cert[0][1][0][1], cert[0][1])  # the TBSCertificate's fields, the Certificate's
    write(name, ser(cert))

def spki(tbs):
    return tbs[6][1]

def rsa_no_null(tbs, c):
    spki(tbs)[0][1] = spki(tbs)[0][1][:1]
edit("rsa.pem", "go-rsa-no-null-params.pem", rsa_no_null)

def ed_params(tbs, c):
    spki(tbs)[0][1].append([0x05, b""])
edit("ed.pem", "go-ed25519-params.pem", ed_params)

def rsa_big_e(tbs, c):
    key = parse(spki(tbs)[1][1][1:])
    key[0][1][1][1] = (2**64 + 1).to_bytes(9, "big")
    spki(tbs)[1][1] = b"\x00" + ser(key)
edit("rsa.pem", "go-rsa-big-exponent.pem", rsa_big_e)

def version4(tbs, c):
    tbs[0][1][0][1] = b"\x03"
edit("p256.pem", "go-version-4.pem", version4)

def sigalg(tbs, c):
    oid = c[1][1][0][1]
    c[1][1][0][1] = oid[:-1] + bytes([oid[-1] + 1])  # ecdsa-with-SHA256 -> SHA384
edit("p256.pem", "go-sigalg-mismatch.pem", sigalg)

def bad_month(tbs, c):
    t = tbs[4][1][1]
    t[1] = t[1][:2] + b"13" + t[1][4:]
edit("p256.pem", "go-time-invalid.pem", bad_month)

def not_before(tag, text):
    def fn(tbs, c):
        tbs[4][1][0] = [tag, text]
    return fn
edit("p256.pem", "go-time-fraction.pem", not_before(0x18, b"20250101000000.5Z"))
edit("p256.pem", "go-time-zero-offset.pem", not_before(0x17, b"250101000000+0000"))
edit("p256.pem", "go-ok-time-offset.pem", not_before(0x17, b"250101000000+0130"))
edit("p256.pem", "go-ok-time-minutes.pem", not_before(0x17, b"2501010000Z"))

def cn(tbs):
    return tbs[5][1][1][1][0][1][1]  # subject: O, then CN

def printable(tbs, c):
    cn(tbs)[0], cn(tbs)[1] = 0x13, cn(tbs)[1].replace(b"rule", b"r@le")
edit("p256.pem", "go-printable-invalid.pem", printable)

def utf8(tbs, c):
    cn(tbs)[0], cn(tbs)[1] = 0x0c, cn(tbs)[1].replace(b"xx", b"\xff\xfe")
edit("p256.pem", "go-utf8-invalid.pem", utf8)

def bmp(tbs, c):
    cn(tbs)[0], cn(tbs)[1] = 0x1e, b"\x00g\x00o\x00"
edit("p256.pem", "go-bmp-odd.pem", bmp)

def name_integer(tbs, c):
    o = tbs[5][1][0][1][0][1]  # subject: the O attribute
    o[0], o[1] = [0x06, b"\x2a\x03\x04"], [0x02, b"\x05"]
edit("p256.pem", "go-name-integer.pem", name_integer)

def ia5(tbs, c):
    email = tbs[5][1][1][1][0][1][1]
    email[1] = email[1].replace(b"ca@", b"c\xe9@")
edit("p256-email.pem", "go-ia5-high.pem", ia5)

# JWK members go-jose reads (and bundled drops from the canonical form).
base = json.load(open(valid))
x509 = next(i for i, k in enumerate(base["keys"]) if k["use"] == "x509-svid")
der = base64.b64decode(base["keys"][x509]["x5c"][0])
b64u = lambda b: base64.urlsafe_b64encode(b).decode().rstrip("=")
sha1, sha256 = hashlib.sha1(der).digest(), hashlib.sha256(der).digest()
edits = {
    "go-jwk-x5t-wrong-thumbprint": (x509, "x5t", b64u(bytes(20))),
    "go-jwk-x5t-s256-wrong-thumbprint": (x509, "x5t#S256", b64u(bytes(32))),
    "go-jwk-x5t-bad-base64": (x509, "x5t", "not+base64url/" + "A" * 14),
    "go-jwk-x5t-padded": (x509, "x5t", base64.urlsafe_b64encode(sha1).decode()),
    "go-jwk-x5t-bad-hex": (x509, "x5t", b64u(b"z" * 40)),
    "go-jwk-x5t-number": (x509, "x5t", 20),
    "go-jwk-x5u-invalid": (x509, "x5u", "http://[::1"),
    "go-jwk-x5u-number": (x509, "x5u", 1),
    "go-jwk-kid-number": (x509, "kid", 7),
    "go-jwk-alg-number": (x509, "alg", 7),
    "go-jwk-x-on-rsa-bad-base64": (x509, "x", "!!!"),
    "go-jwk-rsa-e-wraps": (0, "e", b64u((2**64 + 3).to_bytes(9, "big"))),
    "go-top-case-keys": (None, "Keys", []),
    "go-top-case-sequence": (None, "SPIFFE_SEQUENCE", -1),
    "go-ok-x5t": (x509, "x5t", b64u(sha1)),
    "go-ok-jwk-case-x5t": (x509, "X5T", "abc"),
    "go-ok-jwk-case-kid": (x509, "KID", 7),
    "go-ok-jwk-kelvin-kty": (x509, "\u212aty", "EC"),
    "go-ok-x5t-hex": (x509, "x5t", b64u(sha1.hex().encode())),
    "go-ok-x5t-s256": (x509, "x5t#S256", b64u(sha256)),
}
for name, (index, member, value) in edits.items():
    doc = json.loads(json.dumps(base))
    (doc if index is None else doc["keys"][index])[member] = value
    with open(f"{out}/{name}.json", "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
EOF

/*
 * What Go's crypto/x509 parser refuses in a certificate and OpenSSL does not (issue 8 §3).
 * SPIRE and go-spiffe read bundles with Go, so a CA that Go cannot parse would break every Go
 * consumer of a bundle bundled published: the model refuses it instead. This walks the DER
 * once more, as parseCertificate and processExtensions do (Go 1.26, src/crypto/x509/
 * parser.go), and applies their rules case by case; docs/bundles.md lists them. Structure
 * OpenSSL already checked (DER, one certificate, lengths) is only re-read here, boundedly.
 * Below the model (bundle.c), beside bundle_jwk.c; calls nothing above.
 */
#include "bundle_internal.h"

#include <inttypes.h>
#include <string.h>

/* One DER element: its tag and contents. */
struct der {
	uint8_t tag;
	const uint8_t *p;
	size_t n;
};

enum {
	T_BOOLEAN = 0x01, T_INTEGER = 0x02, T_BIT_STRING = 0x03, T_OCTET_STRING = 0x04, T_NULL = 0x05,
	T_OID = 0x06, T_UTF8 = 0x0c, T_NUMERIC = 0x12, T_PRINTABLE = 0x13, T_T61 = 0x14, T_IA5 = 0x16,
	T_UTC_TIME = 0x17, T_GENERALIZED_TIME = 0x18, T_BMP = 0x1e, T_SEQUENCE = 0x30, T_SET = 0x31,
};

/* Context-specific tags: [n] primitive, [n] constructed. */
#define CTX(n) ((uint8_t)(0x80 | (n)))
#define CTX_C(n) ((uint8_t)(0xa0 | (n)))

/* Reads one element (low tag numbers, definite lengths of at most 4 bytes). */
static bool der_next(struct der *e, tl_cursor *c)
{
	uint8_t tag, b;
	size_t n = 0;

	if (tl_cursor_u8(&tag, c) != 0 || (tag & 0x1f) == 0x1f || tl_cursor_u8(&b, c) != 0)
		return false;
	if (b < 0x80) {
		n = b;
	} else {
		size_t k = b & 0x7f;

		if (k == 0 || k > 4)
			return false;
		for (size_t i = 0; i < k; i++) {
			if (tl_cursor_u8(&b, c) != 0)
				return false;
			n = n << 8 | b;
		}
	}
	if (tl_cursor_take(&e->p, c, n) != 0)
		return false;
	e->tag = tag;
	e->n = n;
	return true;
}

static bool der_read(struct der *e, tl_cursor *c, uint8_t tag)
{
	return der_next(e, c) && e->tag == tag;
}

static bool der_peek(const tl_cursor *c, uint8_t tag)
{
	return tl_cursor_left(c) > 0 && tl_cursor_here(c)[0] == tag;
}

static tl_cursor der_inside(const struct der *e)
{
	return tl_cursor_make(e->p, e->n);
}

/* The first element inside e, with the tag wanted; `rest` gets what follows it. */
static bool der_first(struct der *out, tl_cursor *rest, const struct der *e, uint8_t tag)
{
	*rest = tl_cursor_make(e->p, e->n);
	return der_read(out, rest, tag);
}

static bool der_is(const struct der *e, const void *bytes, size_t n)
{
	return e->n == n && memcmp(e->p, bytes, n) == 0;
}

/* A DER INTEGER that Go reads into an int64 (cryptobyte's ReadASN1Integer). */
static bool int64_fits(const struct der *e)
{
	return e->tag == T_INTEGER && e->n >= 1 && e->n <= 8;
}

static bool negative(const struct der *e)
{
	return e->n > 0 && (e->p[0] & 0x80);
}

/* cryptobyte's ReadASN1BitString: an unused-bit count of 0..7 whose bits are zero. */
static bool bit_string_ok(const struct der *e)
{
	if (e->tag != T_BIT_STRING || e->n == 0 || e->p[0] > 7 || (e->n == 1 && e->p[0] != 0))
		return false;
	return e->n == 1 || (e->p[e->n - 1] & ((1u << e->p[0]) - 1)) == 0;
}

/* A well-formed OID: at least one arc, base-128 arcs without leading 0x80 bytes. */
static bool oid_ok(const struct der *e)
{
	if (e->tag != T_OID || e->n == 0 || (e->p[e->n - 1] & 0x80))
		return false;
	for (size_t i = 0; i < e->n; i++)
		if (e->p[i] == 0x80 && (i == 0 || !(e->p[i - 1] & 0x80)))
			return false;
	return true;
}

/* ---- times ---- */

static bool digits(const uint8_t *p, size_t n, unsigned *out)
{
	*out = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		*out = *out * 10 + (unsigned)(p[i] - '0');
	}
	return true;
}

static bool date_ok(unsigned year, unsigned month, unsigned day)
{
	static const unsigned char days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month >= 1 && month <= 12 && day >= 1 && day <= (unsigned)days[month - 1] + (month == 2 && leap);
}

/* The zone Go's "Z0700" layout reads and writes back unchanged: "Z", or a non-zero
 * "+hhmm"/"-hhmm" with hh <= 24 (time.Parse's bound) and mm < 60 ("+0060" is written back
 * as "+0100", "+0000" as "Z": Go refuses both). */
static bool zone_ok(const uint8_t *p, size_t n)
{
	unsigned hh, mm;

	if (n == 1)
		return p[0] == 'Z';
	return n == 5 && (p[0] == '+' || p[0] == '-') && digits(p + 1, 2, &hh) && digits(p + 3, 2, &mm) && hh <= 24 &&
	       mm < 60 && (hh | mm) != 0;
}

/* HHMM[SS] of a time: hours, minutes and (when with_seconds) seconds in range. */
static bool clock_ok(const uint8_t *p, bool with_seconds)
{
	unsigned h, m, s = 0;

	return digits(p, 2, &h) && digits(p + 2, 2, &m) && (!with_seconds || digits(p + 4, 2, &s)) && h < 24 && m < 60 &&
	       s < 60;
}

/* cryptobyte's ReadASN1UTCTime: YYMMDDHHMM[SS] and a zone, as time.Parse reads it and
 * Format writes it back byte for byte (seconds optional: the minute-precision fallback). */
static bool utc_time_ok(const struct der *e)
{
	unsigned yy, mo, dd;

	for (int secs = 1; secs >= 0; secs--) {
		size_t clock = secs ? 6 : 4;

		if (e->n < 6 + clock + 1 || !digits(e->p, 2, &yy) || !digits(e->p + 2, 2, &mo) || !digits(e->p + 4, 2, &dd))
			continue;
		if (date_ok(yy >= 50 ? 1900 + yy : 2000 + yy, mo, dd) && clock_ok(e->p + 6, secs) &&
		    zone_ok(e->p + 6 + clock, e->n - 6 - clock))
			return true;
	}
	return false;
}

/* cryptobyte's ReadASN1GeneralizedTime: YYYYMMDDHHMMSS and a zone; no fraction of a second
 * (its layout has none). */
static bool generalized_time_ok(const struct der *e)
{
	unsigned year, mo, dd;

	return e->n >= 15 && digits(e->p, 4, &year) && digits(e->p + 4, 2, &mo) && digits(e->p + 6, 2, &dd) &&
	       date_ok(year, mo, dd) && clock_ok(e->p + 8, true) && zone_ok(e->p + 14, e->n - 14);
}

static bool time_ok(const struct der *e)
{
	return (e->tag == T_UTC_TIME && utc_time_ok(e)) || (e->tag == T_GENERALIZED_TIME && generalized_time_ok(e));
}

/* ---- names ---- */

/* Go's isPrintable: the PrintableString set plus '*' and '&', which real certificates use. */
static bool printable_char(uint8_t b)
{
	return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || (b >= '\'' && b <= ')') ||
	       (b >= '+' && b <= '/') || b == ' ' || b == ':' || b == '=' || b == '?' || b == '*' || b == '&';
}

static bool ascii(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] >= 0x80)
			return false;
	return true;
}

static bool utf8_ok(const uint8_t *p, size_t n)
{
	uint32_t r;

	for (size_t i = 0, k; i < n; i += k)
		if ((k = tl_utf8_next(&r, p + i, n - i)) == 0)
			return false;
	return true;
}

/* UCS-2 without surrogates or permanent non-characters; a final 0x0000 is a terminator. */
static bool bmp_ok(const uint8_t *p, size_t n)
{
	if (n % 2 != 0)
		return false;
	if (n >= 2 && p[n - 1] == 0 && p[n - 2] == 0)
		n -= 2;
	for (size_t i = 0; i < n; i += 2) {
		unsigned u = (unsigned)p[i] << 8 | p[i + 1];

		if (u == 0xfffe || u == 0xffff || (u >= 0xfdd0 && u <= 0xfdef) || (u >= 0xd800 && u <= 0xdfff))
			return false;
	}
	return true;
}

/* Go's parseASN1String on an attribute value: one of six string types, each within its set.
 * (Go after 1.26 reads other types too, readASN1Any; older ones refuse them, and a bundle
 * must be readable by every Go consumer, so the older rule holds.) */
static bool attribute_value_ok(const struct der *v)
{
	switch (v->tag) {
	case T_PRINTABLE:
		for (size_t i = 0; i < v->n; i++)
			if (!printable_char(v->p[i]))
				return false;
		return true;
	case T_UTF8:
		return utf8_ok(v->p, v->n);
	case T_BMP:
		return bmp_ok(v->p, v->n);
	case T_IA5:
		return ascii(v->p, v->n);
	case T_NUMERIC:
		for (size_t i = 0; i < v->n; i++)
			if (!((v->p[i] >= '0' && v->p[i] <= '9') || v->p[i] == ' '))
				return false;
		return true;
	case T_T61:
		return true; /* read as Latin-1 */
	default:
		return false;
	}
}

static int name_check(const struct der *name, const char *which)
{
	tl_cursor rdns = der_inside(name);
	struct der set, atv, type, value;

	while (tl_cursor_left(&rdns) > 0) {
		tl_cursor attrs;

		if (!der_read(&set, &rdns, T_SET))
			return tl_error_set(TL_E_INPUT, "%s: invalid RDNSequence", which);
		attrs = der_inside(&set);
		while (tl_cursor_left(&attrs) > 0) {
			tl_cursor c;

			if (!der_read(&atv, &attrs, T_SEQUENCE))
				return tl_error_set(TL_E_INPUT, "%s: invalid attribute", which);
			c = der_inside(&atv);
			if (!der_read(&type, &c, T_OID) || !oid_ok(&type))
				return tl_error_set(TL_E_INPUT, "%s: invalid attribute type", which);
			if (!der_next(&value, &c) || !attribute_value_ok(&value))
				return tl_error_set(TL_E_INPUT, "%s: an attribute value Go cannot read (tag 0x%02x: not a "
					"T61String, or a PrintableString, UTF8String, BMPString, IA5String or NumericString "
					"with characters outside its set)", which, value.tag);
		}
	}
	return 0;
}

/* ---- the public key ---- */

static const uint8_t OID_RSA[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01 };
static const uint8_t OID_EC[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01 };
static const uint8_t OID_ED25519[] = { 0x2b, 0x65, 0x70 };

static int spki_check(const struct der *spki)
{
	tl_cursor c = der_inside(spki), ai;
	struct der alg, oid, params = { 0 }, key;
	bool has_params;

	if (!der_read(&alg, &c, T_SEQUENCE) || !der_read(&key, &c, T_BIT_STRING))
		return tl_error_set(TL_E_INPUT, "malformed subjectPublicKeyInfo");
	ai = der_inside(&alg);
	if (!der_read(&oid, &ai, T_OID) || !oid_ok(&oid))
		return tl_error_set(TL_E_INPUT, "malformed public key algorithm");
	has_params = tl_cursor_left(&ai) > 0;
	if (has_params && !der_next(&params, &ai))
		return tl_error_set(TL_E_INPUT, "malformed public key parameters");
	if (!bit_string_ok(&key))
		return tl_error_set(TL_E_INPUT, "malformed subjectPublicKey");
	if (der_is(&oid, OID_RSA, sizeof(OID_RSA))) {
		tl_cursor k = tl_cursor_make(key.p + 1, key.n - 1), seq;
		struct der rsa, n, e;

		if (!has_params || params.tag != T_NULL || params.n != 0)
			return tl_error_set(TL_E_INPUT, "RSA key without the NULL parameters (RFC 3279 2.3.1)");
		if (!der_read(&rsa, &k, T_SEQUENCE) || !der_first(&n, &seq, &rsa, T_INTEGER) || !der_read(&e, &seq, T_INTEGER))
			return tl_error_set(TL_E_INPUT, "invalid RSA public key");
		if (negative(&n))
			return tl_error_set(TL_E_INPUT, "RSA modulus is not a positive number");
		if (!int64_fits(&e) || negative(&e))
			return tl_error_set(TL_E_INPUT, "RSA public exponent of %zu bytes does not fit a 64-bit integer", e.n);
	} else if (der_is(&oid, OID_EC, sizeof(OID_EC))) {
		if (!has_params || params.tag != T_OID)
			return tl_error_set(TL_E_INPUT, "EC key with explicit curve parameters: only a named curve is allowed");
		if (key.n < 2 || key.p[1] != 0x04)
			return tl_error_set(TL_E_INPUT, "EC public key is not an uncompressed point");
	} else if (der_is(&oid, OID_ED25519, sizeof(OID_ED25519))) {
		if (has_params)
			return tl_error_set(TL_E_INPUT, "Ed25519 key with parameters (RFC 8410 3: they MUST be absent)");
	}
	return 0; /* other algorithms: the model's key check decides */
}

/* ---- extensions ---- */

/* domainNameValid: chars 33..126, no empty label, no trailing dot; a constraint may start
 * with one '.', and the empty name passes. */
static bool domain_ok(const uint8_t *p, size_t n, bool constraint)
{
	size_t label = 0;

	if (n == 0)
		return true;
	if (p[n - 1] == '.')
		return false;
	if (constraint && p[0] == '.') {
		p++;
		n--;
	}
	for (size_t i = 0; i <= n; i++) {
		if (i == n || p[i] == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (p[i] < 33 || p[i] > 126) {
			return false;
		} else {
			label++;
		}
	}
	return true;
}

static int san_check(tl_cursor *c)
{
	struct der seq, gn;
	tl_cursor names;

	if (!der_read(&seq, c, T_SEQUENCE))
		return tl_error_set(TL_E_INPUT, "invalid subject alternative names");
	names = der_inside(&seq);
	while (tl_cursor_left(&names) > 0) {
		if (!der_next(&gn, &names))
			return tl_error_set(TL_E_INPUT, "invalid subject alternative name");
		switch (gn.tag) {
		case CTX(1):
		case CTX(2):
			if (!ascii(gn.p, gn.n))
				return tl_error_set(TL_E_INPUT, "SAN %s is not an IA5String", gn.tag == CTX(1) ? "rfc822Name" : "dNSName");
			break;
		case CTX(6): {
			const char *host;
			size_t host_len;

			if (!ascii(gn.p, gn.n) || bd_url__check(&host, &host_len, (const char *)gn.p, gn.n) != 0 ||
			    !domain_ok((const uint8_t *)host, host_len, false))
				return tl_error_set(TL_E_INPUT, "SAN URI does not parse as a URL with a valid host");
			break;
		}
		case CTX(7):
			if (gn.n != 4 && gn.n != 16)
				return tl_error_set(TL_E_INPUT, "SAN iPAddress of %zu bytes (want 4 or 16)", gn.n);
			break;
		default:
			break;
		}
	}
	return 0;
}

static bool mask_ok(const uint8_t *m, size_t n)
{
	bool zero = false;

	for (size_t i = 0; i < n; i++) {
		if (zero) {
			if (m[i] != 0)
				return false;
		} else if (m[i] != 0xff) {
			if (m[i] != 0 && m[i] != 0x80 && m[i] != 0xc0 && m[i] != 0xe0 && m[i] != 0xf0 && m[i] != 0xf8 &&
			    m[i] != 0xfc && m[i] != 0xfe)
				return false;
			zero = true;
		}
	}
	return true;
}

/* net.ParseIP's dotted quad: four decimal numbers up to 255, no leading zeros. */
static bool looks_ipv4(const uint8_t *p, size_t n)
{
	size_t parts = 0, i = 0;

	while (i < n) {
		size_t start = i;
		unsigned v = 0;

		while (i < n && p[i] >= '0' && p[i] <= '9' && i - start < 3)
			v = v * 10 + (unsigned)(p[i++] - '0');
		if (i == start || v > 255 || (i - start > 1 && p[start] == '0'))
			return false;
		parts++;
		if (i < n && (p[i++] != '.' || i == n))
			return false;
	}
	return parts == 4;
}

/* An rfc822Name constraint: a domain (constraint form), or local@domain whose local part is a
 * dot-atom of atext (RFC 5321; a quoted local part is refused, stricter than Go's
 * parseRFC2821Mailbox) and whose domain is a valid one. */
static bool mailbox_constraint_ok(const uint8_t *p, size_t n)
{
	const uint8_t *at = memchr(p, '@', n);
	bool dot_ok = false;

	if (at == NULL)
		return domain_ok(p, n, true);
	if (at == p)
		return false;
	for (const uint8_t *q = p; q < at; q++) {
		if (*q == '.') {
			if (!dot_ok)
				return false;
			dot_ok = false;
		} else if ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
			   (*q != 0 && strchr("!#$%&'*+-/=?^_`{|}~", *q) != NULL)) {
			dot_ok = true;
		} else {
			return false;
		}
	}
	return dot_ok && at + 1 < p + n && domain_ok(at + 1, (size_t)(p + n - at - 1), false);
}

static int subtrees_check(const struct der *trees)
{
	tl_cursor c = der_inside(trees);

	if (trees->n == 0)
		return tl_error_set(TL_E_INPUT, "empty name constraints subtree sequence");
	while (tl_cursor_left(&c) > 0) {
		struct der sub, base;
		tl_cursor s;

		if (!der_read(&sub, &c, T_SEQUENCE))
			return tl_error_set(TL_E_INPUT, "invalid NameConstraints extension");
		s = der_inside(&sub);
		if (!der_next(&base, &s))
			return tl_error_set(TL_E_INPUT, "invalid NameConstraints extension");
		if ((base.tag == CTX(1) || base.tag == CTX(2) || base.tag == CTX(6)) && !ascii(base.p, base.n))
			return tl_error_set(TL_E_INPUT, "name constraint is not an IA5String");
		if (base.tag == CTX(2) && !domain_ok(base.p, base.n, true))
			return tl_error_set(TL_E_INPUT, "dNSName constraint is not a valid domain (Go refuses a trailing "
				"dot, empty labels and characters outside 33..126)");
		if (base.tag == CTX(1) && !mailbox_constraint_ok(base.p, base.n))
			return tl_error_set(TL_E_INPUT, "rfc822Name constraint is neither a mailbox nor a domain");
		/* A URI constraint is a domain, never an IP address; ':' is refused outright, which
		 * covers IPv6 (stricter than Go, which takes "a:b"). */
		if (base.tag == CTX(6) && (!domain_ok(base.p, base.n, true) || looks_ipv4(base.p, base.n) ||
					     memchr(base.p, ':', base.n) != NULL))
			return tl_error_set(TL_E_INPUT, "URI constraint is not a domain");
		if (base.tag == CTX(7) &&
		    ((base.n != 8 && base.n != 32) || !mask_ok(base.p + base.n / 2, base.n / 2)))
			return tl_error_set(TL_E_INPUT, "IP constraint is not an address and a prefix mask");
	}
	return 0;
}

static int name_constraints_check(tl_cursor *c)
{
	struct der top, permitted = { 0 }, excluded = { 0 };
	tl_cursor t;
	bool has_p = false, has_e = false;

	if (!der_read(&top, c, T_SEQUENCE) || tl_cursor_left(c) != 0)
		return tl_error_set(TL_E_INPUT, "invalid NameConstraints extension");
	t = der_inside(&top);
	if (der_peek(&t, CTX_C(0)))
		has_p = der_next(&permitted, &t);
	if (der_peek(&t, CTX_C(1)))
		has_e = der_next(&excluded, &t);
	if (tl_cursor_left(&t) != 0)
		return tl_error_set(TL_E_INPUT, "invalid NameConstraints extension");
	if (!has_p && !has_e)
		return tl_error_set(TL_E_INPUT, "empty name constraints extension");
	if (has_p && subtrees_check(&permitted) != 0)
		return TL_E_INPUT;
	if (has_e && subtrees_check(&excluded) != 0)
		return TL_E_INPUT;
	return 0;
}

/* A SEQUENCE OF whose items each pass `item` (given a cursor on the item's contents). */
static bool seq_of(tl_cursor *c, uint8_t item_tag, bool (*item)(tl_cursor *, void *), void *ctx)
{
	struct der seq, it;
	tl_cursor items;

	if (!der_read(&seq, c, T_SEQUENCE))
		return false;
	items = der_inside(&seq);
	while (tl_cursor_left(&items) > 0) {
		tl_cursor in;

		if (!der_read(&it, &items, item_tag))
			return false;
		in = der_inside(&it);
		if (item != NULL && !item(&in, ctx))
			return false;
	}
	return true;
}

/* certificatePolicies: each PolicyInformation starts with an OID, and no OID twice. */
struct policies {
	struct der seen[64];
	size_t n;
};

static bool policy_item(tl_cursor *c, void *ctx)
{
	struct policies *ps = ctx;
	struct der oid;

	if (!der_read(&oid, c, T_OID) || !oid_ok(&oid))
		return false;
	for (size_t i = 0; i < ps->n; i++)
		if (der_is(&ps->seen[i], oid.p, oid.n))
			return false;
	if (ps->n == sizeof(ps->seen) / sizeof(ps->seen[0]))
		return false;
	ps->seen[ps->n++] = oid;
	return true;
}

static bool mapping_item(tl_cursor *c, void *ctx)
{
	struct der a, b;

	(void)ctx;
	return der_read(&a, c, T_OID) && der_read(&b, c, T_OID);
}

static bool access_item(tl_cursor *c, void *ctx)
{
	struct der method;

	(void)ctx;
	return der_read(&method, c, T_OID) && oid_ok(&method);
}

/* DistributionPoint: an optional [0] holding [0] fullName. */
static bool crldp_item(tl_cursor *c, void *ctx)
{
	struct der name, full;
	tl_cursor n;

	(void)ctx;
	if (!der_peek(c, CTX_C(0)))
		return true;
	return der_next(&name, c) && der_first(&full, &n, &name, CTX_C(0));
}

static const uint8_t OID_CE[] = { 0x55, 0x1d };
static const uint8_t OID_AIA[] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01 };

/* processExtensions for one extension. */
static int extension_check(const struct der *id, bool critical, const struct der *value)
{
	tl_cursor c = der_inside(value);
	struct der e;
	struct policies ps = { .n = 0 };

	if (der_is(id, OID_AIA, sizeof(OID_AIA))) {
		if (critical)
			return tl_error_set(TL_E_INPUT, "authority info access marked critical (RFC 5280 4.2.2.1)");
		return seq_of(&c, T_SEQUENCE, access_item, NULL) ? 0 : tl_error_set(TL_E_INPUT, "invalid authority info access");
	}
	if (id->n != 3 || memcmp(id->p, OID_CE, sizeof(OID_CE)) != 0)
		return 0;
	switch (id->p[2]) {
	case 14:
		if (critical)
			return tl_error_set(TL_E_INPUT, "subject key identifier marked critical (RFC 5280 4.2.1.2)");
		return der_read(&e, &c, T_OCTET_STRING) ? 0 : tl_error_set(TL_E_INPUT, "invalid subject key identifier");
	case 15:
		return der_next(&e, &c) && bit_string_ok(&e) ? 0 : tl_error_set(TL_E_INPUT, "invalid key usage");
	case 17:
		return san_check(&c);
	case 19: {
		tl_cursor bc;

		if (!der_read(&e, &c, T_SEQUENCE))
			return tl_error_set(TL_E_INPUT, "invalid basic constraints");
		bc = der_inside(&e);
		if (der_peek(&bc, T_BOOLEAN) && (!der_next(&e, &bc) || e.n != 1))
			return tl_error_set(TL_E_INPUT, "invalid basic constraints");
		if (der_peek(&bc, T_INTEGER) && (!der_next(&e, &bc) || !int64_fits(&e) || negative(&e)))
			return tl_error_set(TL_E_INPUT, "invalid basic constraints (a negative or oversized pathLenConstraint)");
		return 0;
	}
	case 30:
		return name_constraints_check(&c);
	case 31:
		return seq_of(&c, T_SEQUENCE, crldp_item, NULL) ? 0 : tl_error_set(TL_E_INPUT, "invalid CRL distribution points");
	case 32:
		return seq_of(&c, T_SEQUENCE, policy_item, &ps) ? 0
			: tl_error_set(TL_E_INPUT, "invalid certificate policies (a malformed or repeated policy OID)");
	case 33:
		return seq_of(&c, T_SEQUENCE, mapping_item, NULL) ? 0 : tl_error_set(TL_E_INPUT, "invalid policy mappings");
	case 35:
		if (critical)
			return tl_error_set(TL_E_INPUT, "authority key identifier marked critical (RFC 5280 4.2.1.1)");
		return der_read(&e, &c, T_SEQUENCE) ? 0 : tl_error_set(TL_E_INPUT, "invalid authority key identifier");
	case 36: {
		tl_cursor pc;

		if (!der_read(&e, &c, T_SEQUENCE))
			return tl_error_set(TL_E_INPUT, "invalid policy constraints");
		pc = der_inside(&e);
		for (uint8_t t = 0; t < 2; t++)
			if (der_peek(&pc, CTX(t)) && (!der_next(&e, &pc) || e.n < 1 || e.n > 8 || negative(&e)))
				return tl_error_set(TL_E_INPUT, "invalid policy constraints");
		return 0;
	}
	case 37:
		return seq_of(&c, T_OID, NULL, NULL) ? 0 : tl_error_set(TL_E_INPUT, "invalid extended key usages");
	case 54:
		return der_next(&e, &c) && int64_fits(&e) ? 0 : tl_error_set(TL_E_INPUT, "invalid inhibit any policy");
	default:
		return 0;
	}
}

static int extensions_check(const struct der *exts)
{
	tl_cursor outer = der_inside(exts), list;
	struct der seq, ext, seen[BD_X509__MAX_EXTENSIONS];
	size_t n = 0;
	int err;

	if (!der_read(&seq, &outer, T_SEQUENCE))
		return tl_error_set(TL_E_INPUT, "malformed extensions");
	list = der_inside(&seq);
	while (tl_cursor_left(&list) > 0) {
		struct der id, flag, value;
		tl_cursor c;
		bool critical = false;

		if (!der_read(&ext, &list, T_SEQUENCE) || !der_first(&id, &c, &ext, T_OID) || !oid_ok(&id))
			return tl_error_set(TL_E_INPUT, "malformed extension");
		if (der_peek(&c, T_BOOLEAN)) {
			if (!der_next(&flag, &c) || flag.n != 1 || (flag.p[0] != 0 && flag.p[0] != 0xff))
				return tl_error_set(TL_E_INPUT, "malformed extension critical field");
			critical = flag.p[0] != 0;
		}
		if (!der_read(&value, &c, T_OCTET_STRING))
			return tl_error_set(TL_E_INPUT, "malformed extension value field");
		for (size_t i = 0; i < n; i++)
			if (der_is(&seen[i], id.p, id.n))
				return tl_error_set(TL_E_INPUT, "duplicate extension");
		if (n == BD_X509__MAX_EXTENSIONS)
			return tl_error_set(TL_E_INPUT, "more than %d extensions", BD_X509__MAX_EXTENSIONS);
		seen[n++] = id;
		if ((err = extension_check(&id, critical, &value)) != 0)
			return err;
	}
	return 0;
}

int bd_x509__go_check(const uint8_t *der, size_t len)
{
	tl_cursor in = tl_cursor_make(der, len), cert, tbs;
	struct der c, t, e, inner_alg, outer_alg, sig;
	uint8_t version = 0;
	int err;

	if (!der_read(&c, &in, T_SEQUENCE) || !der_first(&t, &cert, &c, T_SEQUENCE) ||
	    !der_read(&outer_alg, &cert, T_SEQUENCE) || !der_read(&sig, &cert, T_BIT_STRING))
		return tl_error_set(TL_E_INPUT, "malformed certificate");
	if (!bit_string_ok(&sig))
		return tl_error_set(TL_E_INPUT, "malformed signature");
	tbs = der_inside(&t);
	if (der_peek(&tbs, CTX_C(0))) {
		tl_cursor v;

		if (!der_next(&e, &tbs) || !der_first(&e, &v, &e, T_INTEGER) || e.n != 1 || e.p[0] > 2)
			return tl_error_set(TL_E_INPUT, "invalid version (want v1, v2 or v3)");
		version = e.p[0];
	}
	if (!der_read(&e, &tbs, T_INTEGER))
		return tl_error_set(TL_E_INPUT, "malformed serial number");
	if (negative(&e))
		return tl_error_set(TL_E_INPUT, "negative serial number (RFC 5280 4.1.2.2; Go refuses it)");
	if (!der_read(&inner_alg, &tbs, T_SEQUENCE) || !der_is(&inner_alg, outer_alg.p, outer_alg.n))
		return tl_error_set(TL_E_INPUT, "inner and outer signature algorithm identifiers differ");
	if (!der_read(&e, &tbs, T_SEQUENCE))
		return tl_error_set(TL_E_INPUT, "malformed issuer");
	if ((err = name_check(&e, "issuer")) != 0)
		return err;
	if (!der_read(&e, &tbs, T_SEQUENCE))
		return tl_error_set(TL_E_INPUT, "malformed validity");
	{
		tl_cursor v = der_inside(&e);
		struct der nb, na;

		if (!der_next(&nb, &v) || !time_ok(&nb) || !der_next(&na, &v) || !time_ok(&na))
			return tl_error_set(TL_E_INPUT, "validity period is not a UTCTime or GeneralizedTime Go reads "
				"(a valid date and time, no fraction, and \"Z\" or a non-zero offset)");
	}
	if (!der_read(&e, &tbs, T_SEQUENCE))
		return tl_error_set(TL_E_INPUT, "malformed subject");
	if ((err = name_check(&e, "subject")) != 0)
		return err;
	if (!der_read(&e, &tbs, T_SEQUENCE))
		return tl_error_set(TL_E_INPUT, "malformed subjectPublicKeyInfo");
	if ((err = spki_check(&e)) != 0)
		return err;
	if (version == 0)
		return 0;
	for (uint8_t id = 1; id <= 2; id++)
		if (der_peek(&tbs, CTX(id)) && !der_next(&e, &tbs))
			return tl_error_set(TL_E_INPUT, "malformed unique identifier");
	if (version == 2 && der_peek(&tbs, CTX_C(3))) {
		if (!der_next(&e, &tbs))
			return tl_error_set(TL_E_INPUT, "malformed extensions");
		return extensions_check(&e);
	}
	return 0;
}

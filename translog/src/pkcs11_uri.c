/*
 * The one reader of RFC 7512 PKCS#11 URIs. The grammar (RFC 7512 section 2.3):
 *
 *   pk11-URI  = "pkcs11:" pk11-path [ "?" pk11-query ]
 *   pk11-path = [ pk11-pattr *(";" pk11-pattr) ]      pk11-query = [ pk11-qattr *("&" pk11-qattr) ]
 *   pk11-pchar = unreserved / pk11-res-avail / "&" / pct-encoded
 *   pk11-qchar = unreserved / pk11-res-avail / "/" / "?" / "|" / pct-encoded
 *   pk11-res-avail = ":" / "[" / "]" / "@" / "!" / "$" / "'" / "(" / ")" / "*" / "+" / "," / "="
 *
 * Each attribute is found in one table that says where it may appear, where its value goes
 * and how long it may be; anything the table does not accept is refused.
 */
#include "translog/pkcs11.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "translog/bytes.h"
#include "translog/text.h"

#define SCHEME "pkcs11:"

enum part { IN_PATH, IN_QUERY };

enum kind {
	K_TEXT,    /* a label: bytes without NUL, into a char array */
	K_ID,      /* bytes, into id / id_len */
	K_SLOT_ID, /* decimal CK_SLOT_ID */
	K_VERSION, /* "major[.minor]" */
	K_TYPE,    /* one of the five object class names */
	K_PATH,    /* an absolute file path */
	K_REFUSED, /* known but not accepted here; `why` says what to do instead */
};

struct attr {
	const char *name;
	enum part part;
	enum kind kind;
	size_t offset; /* into struct tl_pkcs11_uri */
	size_t cap;    /* bytes the decoded value may have */
	const char *why;
};

#define TEXT(n, field) { n, IN_PATH, K_TEXT, offsetof(struct tl_pkcs11_uri, field), \
	sizeof(((struct tl_pkcs11_uri *)0)->field) - 1, NULL }

static const struct attr attrs[] = {
	TEXT("token", token),
	TEXT("manufacturer", manufacturer),
	TEXT("serial", serial),
	TEXT("model", model),
	TEXT("library-manufacturer", library_manufacturer),
	TEXT("library-description", library_description),
	TEXT("slot-description", slot_description),
	TEXT("slot-manufacturer", slot_manufacturer),
	TEXT("object", object),
	{ "id", IN_PATH, K_ID, 0, TL_PKCS11_MAX_ID, NULL },
	{ "slot-id", IN_PATH, K_SLOT_ID, 0, 20, NULL },
	{ "library-version", IN_PATH, K_VERSION, 0, 7, NULL },
	{ "type", IN_PATH, K_TYPE, 0, 10, NULL },
	{ "module-path", IN_QUERY, K_PATH, offsetof(struct tl_pkcs11_uri, module_path), TL_PKCS11_MAX_PATH, NULL },
	{ "module-name", IN_QUERY, K_REFUSED, 0, 0, "name the module by its module-path" },
	{ "pin-value", IN_QUERY, K_REFUSED, 0, 0, "a PIN never goes in a URI: use a PIN file or the environment" },
	{ "pin-source", IN_QUERY, K_REFUSED, 0, 0, "a PIN never goes in a URI: use a PIN file or the environment" },
};
#define N_ATTRS (sizeof(attrs) / sizeof(attrs[0]))

static const char *const type_names[] = { "public", "private", "cert", "secret-key", "data" };

int tl_pkcs11_uri_is(const char *text)
{
	return strncasecmp(text, SCHEME, strlen(SCHEME)) == 0;
}

static int is_unreserved(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		c == '_' || c == '~';
}

static int allowed(uint8_t c, enum part part)
{
	if (is_unreserved(c) || (c != 0 && strchr(":[]@!$'()*+,=", c) != NULL))
		return 1;
	return part == IN_PATH ? c == '&' : (c == '/' || c == '?' || c == '|');
}

/* Decodes the value in raw (len bytes) into out (at most cap bytes). */
static int decode(uint8_t *out, size_t *out_len, const uint8_t *raw, size_t len, size_t cap, const struct attr *a)
{
	tl_cursor c = tl_cursor_make(raw, len);
	size_t n = 0;

	while (tl_cursor_left(&c) > 0) {
		const uint8_t *p;
		uint8_t b;

		if (tl_cursor_u8(&b, &c) != 0)
			return tl_error_set(TL_E_INTERNAL, "pkcs11 URI: cursor out of step");
		if (b == '%') {
			if (tl_cursor_take(&p, &c, 2) != 0 || tl_hex_digit(p[0]) < 0 || tl_hex_digit(p[1]) < 0)
				return tl_error_set(TL_E_INPUT, "pkcs11 URI: %s: '%%' must be followed by two hex digits", a->name);
			b = (uint8_t)(tl_hex_digit(p[0]) << 4 | tl_hex_digit(p[1]));
		} else if (!allowed(b, a->part)) {
			return tl_error_set(TL_E_INPUT, "pkcs11 URI: %s: character 0x%02x must be percent-encoded", a->name, b);
		}
		if (n == cap)
			return tl_error_set(TL_E_INPUT, "pkcs11 URI: %s is longer than %zu bytes", a->name, cap);
		out[n++] = b;
	}
	*out_len = n;
	return 0;
}

static int parse_version(struct tl_pkcs11_uri *u, const uint8_t *v, size_t len)
{
	const uint8_t *dot = memchr(v, '.', len);
	size_t major_len = dot ? (size_t)(dot - v) : len;
	uint64_t major, minor = 0;

	if (tl_parse_u64(&major, (const char *)v, major_len) != 0 ||
	    (dot != NULL && tl_parse_u64(&minor, (const char *)dot + 1, len - major_len - 1) != 0) || major > 255 ||
	    minor > 255)
		return tl_error_set(TL_E_INPUT, "pkcs11 URI: library-version must be MAJOR[.MINOR], each 0 to 255");
	u->has_library_version = 1;
	u->library_version_major = (unsigned)major;
	u->library_version_minor = (unsigned)minor;
	return 0;
}

/* Stores one decoded value where its attribute says. */
static int store(struct tl_pkcs11_uri *u, const struct attr *a, const uint8_t *v, size_t len)
{
	uint64_t n;

	switch (a->kind) {
	case K_TEXT:
	case K_PATH:
		if (memchr(v, '\0', len) != NULL)
			return tl_error_set(TL_E_INPUT, "pkcs11 URI: %s contains a NUL byte", a->name);
		if (a->kind == K_PATH && v[0] != '/')
			return tl_error_set(TL_E_INPUT, "pkcs11 URI: %s must be an absolute path", a->name);
		memcpy((char *)u + a->offset, v, len);
		((char *)u + a->offset)[len] = '\0';
		return 0;
	case K_ID:
		memcpy(u->id, v, len);
		u->id_len = len;
		return 0;
	case K_SLOT_ID:
		if (tl_parse_u64(&n, (const char *)v, len) != 0 || n > (unsigned long)-1)
			return tl_error_set(TL_E_INPUT, "pkcs11 URI: slot-id must be a decimal number");
		u->has_slot_id = 1;
		u->slot_id = (unsigned long)n;
		return 0;
	case K_VERSION:
		return parse_version(u, v, len);
	case K_TYPE:
		for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
			if (strlen(type_names[i]) == len && memcmp(type_names[i], v, len) == 0) {
				u->type = (enum tl_pkcs11_type)(i + 1);
				return 0;
			}
		return tl_error_set(TL_E_INPUT, "pkcs11 URI: type must be public, private, cert, secret-key or data");
	case K_REFUSED:
		break;
	}
	return tl_error_set(TL_E_INPUT, "pkcs11 URI: %s is not accepted: %s", a->name, a->why);
}

/* One "name=value" of the given part; `seen` has a bit per attribute already given. */
static int parse_attr(struct tl_pkcs11_uri *u, uint32_t *seen, const uint8_t *s, size_t len, enum part part)
{
	uint8_t value[TL_PKCS11_MAX_PATH];
	const uint8_t *eq = memchr(s, '=', len);
	size_t name_len, value_len = 0;
	const struct attr *a = NULL;
	size_t i;
	int err;

	if (len == 0)
		return tl_error_set(TL_E_INPUT, "pkcs11 URI: empty attribute (a stray '%c')", part == IN_PATH ? ';' : '&');
	if (eq == NULL)
		return tl_error_set(TL_E_INPUT, "pkcs11 URI: attribute '%.*s' has no '='", (int)(len > 64 ? 64 : len), s);
	name_len = (size_t)(eq - s);
	for (i = 0; i < N_ATTRS && a == NULL; i++)
		if (strlen(attrs[i].name) == name_len && strncasecmp(attrs[i].name, (const char *)s, name_len) == 0)
			a = &attrs[i];
	if (a == NULL)
		return tl_error_set(TL_E_INPUT, "pkcs11 URI: unknown attribute '%.*s'", (int)(name_len > 64 ? 64 : name_len), s);
	if (a->part != part)
		return tl_error_set(TL_E_INPUT, "pkcs11 URI: %s belongs in the %s", a->name, a->part == IN_PATH ? "path" : "query");
	if (*seen & (1u << (a - attrs)))
		return tl_error_set(TL_E_INPUT, "pkcs11 URI: %s given twice", a->name);
	*seen |= 1u << (a - attrs);
	if (a->kind == K_REFUSED)
		return store(u, a, NULL, 0);
	if (len - name_len - 1 == 0)
		return tl_error_set(TL_E_INPUT, "pkcs11 URI: %s has an empty value", a->name);
	if ((err = decode(value, &value_len, eq + 1, len - name_len - 1, a->cap, a)) != 0)
		return err;
	return store(u, a, value, value_len);
}

/* Splits [c's position, end) at `sep` and parses each attribute. */
static int parse_part(struct tl_pkcs11_uri *u, uint32_t *seen, tl_cursor *c, size_t end, uint8_t sep, enum part part)
{
	int err;

	while (c->pos < end) {
		const uint8_t *start = tl_cursor_here(c), *s;
		const uint8_t *stop = memchr(start, sep, end - c->pos);
		size_t n = stop ? (size_t)(stop - start) : end - c->pos;

		if (tl_cursor_take(&s, c, n) != 0)
			return tl_error_set(TL_E_INTERNAL, "pkcs11 URI: cursor out of step");
		if ((err = parse_attr(u, seen, s, n, part)) != 0)
			return err;
		if (stop != NULL && (tl_cursor_take(&s, c, 1) != 0 || c->pos == end))
			return tl_error_set(TL_E_INPUT, "pkcs11 URI: empty attribute (a stray '%c')", sep);
	}
	return 0;
}

int tl_pkcs11_uri_parse(struct tl_pkcs11_uri *out, const char *text, size_t len)
{
	tl_cursor c = tl_cursor_make(text, len);
	const uint8_t *scheme, *q;
	uint32_t seen = 0;
	size_t path_end;
	int err;

	memset(out, 0, sizeof(*out));
	if (len > TL_PKCS11_MAX_URI)
		return tl_error_set(TL_E_INPUT, "pkcs11 URI: longer than %d bytes", TL_PKCS11_MAX_URI);
	if (tl_cursor_take(&scheme, &c, strlen(SCHEME)) != 0 || strncasecmp((const char *)scheme, SCHEME, strlen(SCHEME)) != 0)
		return tl_error_set(TL_E_INPUT, "pkcs11 URI: does not start with \"" SCHEME "\"");
	q = memchr(tl_cursor_here(&c), '?', tl_cursor_left(&c));
	path_end = q ? (size_t)(q - (const uint8_t *)text) : len;
	if ((err = parse_part(out, &seen, &c, path_end, ';', IN_PATH)) != 0)
		goto out;
	if (q != NULL) {
		if (tl_cursor_take(&q, &c, 1) != 0 || tl_cursor_left(&c) == 0) {
			err = tl_error_set(TL_E_INPUT, "pkcs11 URI: empty query after '?'");
			goto out;
		}
		err = parse_part(out, &seen, &c, len, '&', IN_QUERY);
	}
out:
	if (err)
		memset(out, 0, sizeof(*out));
	return err;
}

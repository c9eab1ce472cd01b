/*
 * The URLs Go's net/url.Parse refuses, for the bundle members Go reads as URLs: a URI SAN of
 * a CA certificate (crypto/x509) and a JWK's x5u (go-jose). A bundle that Go cannot read
 * breaks every Go consumer (issue 8 §3). This follows url.Parse's failure cases (Go 1.26,
 * src/net/url/url.go: getScheme, parse, parseAuthority, parseHost, validOptionalPort,
 * validUserinfo, shouldEscape for hosts); where it is simpler it is stricter (a '%' escape
 * must be valid anywhere, and a host takes none). Below bundle_x509.c and bundle_jose.c.
 */
#include "bundle_internal.h"

#include <string.h>

static bool alnum(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool hex_digit(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* shouldEscape(c, encodeHost) is false: the ASCII bytes a host may hold. */
static bool host_byte(uint8_t c)
{
	return c >= 0x80 || alnum(c) || (c != 0 && strchr("!$&'()*+,;=:[]<>\"-_.~", c) != NULL);
}

/* validOptionalPort: empty, or ':' and digits. */
static bool port_ok(const char *p, size_t n)
{
	if (n == 0)
		return true;
	if (p[0] != ':')
		return false;
	for (size_t i = 1; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return true;
}

static const char *last_of(const char *p, size_t n, char ch)
{
	for (size_t i = n; i > 0; i--)
		if (p[i - 1] == ch)
			return p + i - 1;
	return NULL;
}

static int authority_check(const char *a, size_t n)
{
	const char *at = last_of(a, n, '@'), *host = at ? at + 1 : a, *end = a + n, *colon;

	for (const char *u = a; at != NULL && u < at; u++)
		if (!alnum((uint8_t)*u) && (*u == 0 || strchr("-._:~!$&'()*+,;=%@", *u) == NULL))
			return tl_error_set(TL_E_INPUT, "invalid userinfo in URL");
	if (host < end && *host == '[') {
		const char *close = last_of(host, (size_t)(end - host), ']');

		if (close == NULL)
			return tl_error_set(TL_E_INPUT, "URL host lacks its closing ']'");
		if (!port_ok(close + 1, (size_t)(end - close - 1)))
			return tl_error_set(TL_E_INPUT, "invalid port in URL");
		return 0;
	}
	if ((colon = last_of(host, (size_t)(end - host), ':')) != NULL && !port_ok(colon, (size_t)(end - colon)))
		return tl_error_set(TL_E_INPUT, "invalid port in URL");
	for (const char *h = host; h < end; h++)
		if (*h == '%' || !host_byte((uint8_t)*h))
			return tl_error_set(TL_E_INPUT, "invalid character in URL host");
	return 0;
}

int bd_url__check(const char **host, size_t *host_len, const char *s, size_t n)
{
	const char *rest = s, *end, *stop;
	bool scheme = false;

	*host = NULL;
	*host_len = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)s[i];

		if (c < 0x20 || c == 0x7f)
			return tl_error_set(TL_E_INPUT, "control character in URL");
		if (c == '%' && (i + 2 >= n || !hex_digit((uint8_t)s[i + 1]) || !hex_digit((uint8_t)s[i + 2])))
			return tl_error_set(TL_E_INPUT, "invalid URL escape at offset %zu", i);
	}
	if ((stop = memchr(s, '#', n)) != NULL)
		n = (size_t)(stop - s);
	/* getScheme: letters, then letters, digits, '+', '-', '.' up to ':'. */
	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
			continue;
		if ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.') {
			if (i == 0)
				break;
			continue;
		}
		if (c == ':') {
			if (i == 0)
				return tl_error_set(TL_E_INPUT, "URL without a scheme before ':'");
			scheme = true;
			rest = s + i + 1;
		}
		break;
	}
	if ((stop = memchr(rest, '?', (size_t)(s + n - rest))) != NULL)
		n = (size_t)(stop - s);
	end = s + n;
	if (rest == end || *rest != '/') {
		const char *slash = memchr(rest, '/', (size_t)(end - rest));

		if (!scheme && memchr(rest, ':', (size_t)((slash ? slash : end) - rest)) != NULL)
			return tl_error_set(TL_E_INPUT, "first path segment in URL holds a colon");
		return 0;
	}
	if (end - rest >= 2 && rest[1] == '/' && (scheme || end - rest < 3 || rest[2] != '/')) {
		const char *a = rest + 2, *a_end = memchr(a, '/', (size_t)(end - a));
		const char *at;
		int err;

		if (a_end == NULL)
			a_end = end;
		if ((err = authority_check(a, (size_t)(a_end - a))) != 0)
			return err;
		at = last_of(a, (size_t)(a_end - a), '@');
		*host = at ? at + 1 : a;
		*host_len = (size_t)(a_end - *host);
	}
	return 0;
}

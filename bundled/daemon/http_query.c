/*
 * The one parser of query strings. Strict like the request parser: a name is spelled one
 * way (no escapes, listed by the route), a value may be percent-encoded but must decode to
 * valid UTF-8 without NUL, and a parameter given twice is refused rather than resolved.
 */
#include <string.h>

#include "http.h"
#include "translog/text.h"

/* Percent-decodes s[0..n) into out (cap bytes with the NUL). */
static int decode_value(char *out, size_t cap, const char *s, size_t n, const char *name)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			if (i + 2 >= n || tl_hex_digit((unsigned char)s[i + 1]) < 0 || tl_hex_digit((unsigned char)s[i + 2]) < 0)
				return tl_error_set(TL_E_INPUT, "query parameter \"%s\": bad percent escape", name);
			c = tl_hex_digit((unsigned char)s[i + 1]) << 4 | tl_hex_digit((unsigned char)s[i + 2]);
			i += 2;
		}
		if (c == 0)
			return tl_error_set(TL_E_INPUT, "query parameter \"%s\": a NUL byte", name);
		if (o + 1 >= cap)
			return tl_error_set(TL_E_INPUT, "query parameter \"%s\" is longer than %zu bytes", name, cap - 1);
		out[o++] = (char)c;
	}
	out[o] = '\0';
	for (size_t i = 0; i < o;) {
		uint32_t rune;
		size_t k = tl_utf8_next(&rune, (const uint8_t *)out + i, o - i);

		if (k == 0)
			return tl_error_set(TL_E_INPUT, "query parameter \"%s\" is not valid UTF-8", name);
		i += k;
	}
	return 0;
}

int http_query_parse(struct http_request *req, const char *query, size_t len, const char *const *allowed)
{
	const char *p = query, *end = query + len;

	req->nparams = 0;
	if (len == 0)
		return tl_error_set(TL_E_INPUT, "an empty query string (drop the '?')");
	while (p <= end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *pe = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(pe - p));
		const char *name = NULL;
		struct http_param *prm;
		int err;

		if (eq == NULL || eq == p)
			return tl_error_set(TL_E_INPUT, "malformed query string: every parameter is name=value");
		for (size_t i = 0; allowed != NULL && allowed[i] != NULL; i++)
			if (strlen(allowed[i]) == (size_t)(eq - p) && memcmp(allowed[i], p, (size_t)(eq - p)) == 0)
				name = allowed[i];
		if (name == NULL)
			return tl_error_set(TL_E_INPUT, "unknown query parameter \"%.*s\"", (int)(eq - p < 64 ? eq - p : 64), p);
		if (http_query(req, name) != NULL)
			return tl_error_set(TL_E_INPUT, "query parameter \"%s\" given more than once", name);
		if (req->nparams == HTTP_MAX_PARAMS)
			return tl_error_set(TL_E_INPUT, "too many query parameters");
		prm = &req->params[req->nparams];
		if ((err = decode_value(prm->value, sizeof(prm->value), eq + 1, (size_t)(pe - eq - 1), name)) != 0)
			return err;
		prm->name = name;
		req->nparams++;
		if (amp == NULL)
			break;
		p = amp + 1;
	}
	return 0;
}

const char *http_query(const struct http_request *req, const char *name)
{
	for (size_t i = 0; i < req->nparams; i++)
		if (strcmp(req->params[i].name, name) == 0)
			return req->params[i].value;
	return NULL;
}

int http_query_u64(uint64_t *out, const struct http_request *req, const char *name)
{
	const char *v = http_query(req, name);

	if (v == NULL)
		return tl_error_set(TL_E_INPUT, "missing query parameter \"%s\"", name);
	if (tl_parse_u64(out, v, strlen(v)) != 0)
		return tl_error_set(TL_E_INPUT, "query parameter \"%s\" is not an unsigned decimal", name);
	return 0;
}

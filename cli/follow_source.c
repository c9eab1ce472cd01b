#include "follow_source.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

int follow_source_open(struct follow_source *s, const char *url, const char *ca_file)
{
	char base[BD_HTTP_URL_MAX];
	const char *host, *slash;
	size_t n;
	bd_http_options o = { .name = "source", .url = base, .ca_file = ca_file };

	memset(s, 0, sizeof(*s));
	if (strncasecmp(url, "https://", 8) != 0)
		return tl_error_set(TL_E_INPUT, "source %s: not an https URL (the https_web profile)", url);
	host = url + 8;
	slash = strchr(host, '/');
	n = slash != NULL ? (size_t)(slash - url) : strlen(url);
	if (n >= sizeof(base) || (slash != NULL && strlen(slash) >= sizeof(s->path)))
		return tl_error_set(TL_E_INPUT, "source URL longer than %d bytes", BD_HTTP_URL_MAX - 1);
	memcpy(base, url, n);
	base[n] = '\0';
	snprintf(s->path, sizeof(s->path), "%s", slash != NULL ? slash : "/");
	return bd_http_open(&s->http, &o);
}

void follow_source_close(struct follow_source *s)
{
	bd_http_close(s->http);
	memset(s, 0, sizeof(*s));
}

int follow_source_read(bd_bundle **out, uint64_t *sequence, struct follow_source *s)
{
	static const char *const headers[] = { "Accept: application/json", NULL };
	bd_http_request req = { .method = "GET", .what = "GET bundle", .path = s->path, .headers = headers };
	bd_http_reply r = bd_http_reply_make(BD_MAX_BUNDLE_SIZE);
	bd_bundle *b = NULL;
	char text[BD_HTTP_TEXT_MAX + 1];
	int err;

	*out = NULL;
	if ((err = bd_http_request_send(&r, s->http, &req)) != 0)
		goto out;
	if (r.status != 200) {
		err = tl_error_set(bd_http_status_err(r.status), "source %s%s: HTTP %ld: %s", bd_http_url(s->http),
			s->path, r.status, bd_http_reply_text(text, sizeof(text), &r));
		goto out;
	}
	if ((err = bd_bundle_parse_json(&b, r.body.data, r.body.len, 0, NULL)) != 0) {
		err = tl_error_wrap(err, "source %s%s: not a SPIFFE bundle", bd_http_url(s->http), s->path);
		goto out;
	}
	if (!bd_bundle_sequence(sequence, b)) {
		err = tl_error_set(TL_E_INPUT, "source %s%s: the bundle has no spiffe_sequence", bd_http_url(s->http),
			s->path);
		goto out;
	}
	*out = b;
	b = NULL;
out:
	bd_bundle_free(b);
	tl_buf_free(&r.body);
	return err;
}

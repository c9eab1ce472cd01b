/*
 * Reads of what publishers made: the log's identity (GET /v1/log), the registry
 * (GET /v1/domains[/<td>]) and every version (GET /v1/domains/<td>/bundle, .../bundles/<seq>
 * with /proof and /entry). Anonymous: everything here is public by design. Versions come from
 * the log and the block store; the registry only says where they are.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundled/entry.h"
#include "daemon.h"
#include "routes.h"
#include "versions.h"
#include "translog/proof.h"
#include "translog/text.h"
#include "translog/tlog_proof.h"

#define DOMAINS_PREFIX "/v1/domains/"

int route_reply_error(bd_httpd_response *res, unsigned status, const char *code, const char *message)
{
	res->nheaders = 0;
	return http_reply_json(res, status, json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message));
}

int domain_path_parse(struct domain_path *out, const char *path)
{
	const char *p = path + strlen(DOMAINS_PREFIX);
	const char *slash = strchr(p, '/');
	size_t n = slash != NULL ? (size_t)(slash - p) : strlen(p);
	char safe[80];

	tl_text_printable(safe, sizeof(safe), p, n);
	if (n == 0 || n > BD_MAX_DOMAIN || bd_domain_name_check(p, n) != 0)
		return tl_error_set(TL_E_INPUT, "\"%s\" is not a SPIFFE trust domain name (%s)", safe,
			n == 0 ? "empty" : tl_error_message());
	memcpy(out->td, p, n);
	out->td[n] = '\0';
	out->rest = p + n;
	return 0;
}

int route_log_info(bd_httpd_response *res, const struct http_request *req, void *app)
{
	struct daemon *d = app;
	tl_buf vkey = tl_buf_make(TL_MAX_KEY_TEXT);
	int err;

	if ((err = tl_verifier_format(&vkey, d->log_vkey)) == 0)
		err = http_reply_json(res, 200, json_pack("{s:s,s:s%,s:I}", "origin", tl_log_origin(d->log), "vkey",
			(const char *)vkey.data, vkey.len, "size", (json_int_t)tl_log_size(d->log)));
	tl_buf_free(&vkey);
	if (err == 0)
		err = bd_httpd_add_header(res, "Cache-Control", "no-cache");
	return err;
}

/* schema/domain.schema.json */
static json_t *domain_json(const bd_domain_state *s)
{
	json_t *doc = json_pack("{s:s,s:[],s:[],s:I,s:I,s:I,s:I,s:I}", "domain", s->domain, "publisher_keys",
		"key_fingerprints", "registered_index", (json_int_t)s->registered_index, "newest_index",
		(json_int_t)s->newest_index, "versions", (json_int_t)s->versions, "next_sequence",
		(json_int_t)(s->has_version ? s->sequence + 1 : 1), "keys_time", (json_int_t)s->keys_time);
	json_t *keys = json_object_get(doc, "publisher_keys"), *fps = json_object_get(doc, "key_fingerprints");
	char hex[2 * TL_HASH_SIZE + 1];

	if (doc == NULL)
		return NULL;
	for (size_t i = 0; i < s->n_keys; i++) {
		tl_hex_encode(hex, s->key_fps[i].b, TL_HASH_SIZE);
		if (json_array_append_new(keys, json_string(s->keys[i])) != 0 ||
		    json_array_append_new(fps, json_string(hex)) != 0)
			goto fail;
	}
	if (s->has_version && (json_object_set_new(doc, "sequence", json_integer((json_int_t)s->sequence)) != 0 ||
	    json_object_set_new(doc, "version_index", json_integer((json_int_t)s->version_index)) != 0))
		goto fail;
	return doc;
fail:
	json_decref(doc);
	return NULL;
}

static int add_domain(void *ctx, const bd_domain_state *s)
{
	json_t *obj = domain_json(s);

	if (obj == NULL || json_array_append_new(ctx, obj) != 0)
		return tl_error_set(TL_E_NOMEM, "out of memory listing domains");
	return 0;
}

int route_domains_list(bd_httpd_response *res, const struct http_request *req, void *app)
{
	struct daemon *d = app;
	json_t *list = json_array();
	int err;

	if (list == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory listing domains");
	if ((err = bd_registry_list(d->registry, add_domain, list)) == 0)
		err = http_reply_json(res, 200, json_pack("{s:O}", "domains", list));
	json_decref(list);
	return err;
}

/* The canonical bytes, with what lets caches and clients check and keep them: a version by
 * sequence is immutable, the newest is revalidated (its tag is its SHA-256 either way). A
 * conditional request is answered from the version's summary, before any body is read. */
static int serve_bytes(bd_httpd_response *res, const struct http_request *req, struct daemon *d,
	const struct watch_event *v, bool immutable)
{
	char etag[2 * TL_HASH_SIZE + 3];
	bool done;
	int err;

	snprintf(etag, sizeof(etag), "\"%s\"", v->sha256);
	if ((err = http_conditional(&done, res, req, etag, immutable ? HTTP_CACHE_CONTROL_IMMUTABLE : "no-cache",
		     false)) != 0)
		return err;
	if ((err = bd_httpd_add_header(res, "X-Bundle-Cid", "%s", v->cid)) != 0 ||
	    (err = bd_httpd_add_header(res, "X-Bundle-Sequence", "%llu", (unsigned long long)v->sequence)) != 0)
		return err;
	return done ? 0 : version_reply(res, d, v, req->raw->tls);
}

/* A C2SP tlog-proof of the version's entry against the served checkpoint (with its witnesses'
 * cosignatures), or the newest if the served one does not cover it yet. */
static int serve_proof(bd_httpd_response *res, struct daemon *d, uint64_t index)
{
	tl_hash hashes[TL_MAX_PROOF_HASHES];
	tl_buf note = tl_buf_make(1u << 20);
	uint64_t size;
	size_t n;
	int err;

	if ((err = bd_cosigning_checkpoint(&size, &note, d->cosigning, d->log, index + 1)) != 0 ||
	    (err = tl_log_prove_inclusion(hashes, &n, d->log, index, size)) != 0)
		goto out;
	res->status = 200;
	res->content_type = "text/plain; charset=utf-8";
	if ((err = tl_tlog_proof_write(&res->body, NULL, 0, index, hashes, n, note.data, note.len)) == 0)
		err = bd_httpd_add_header(res, "Cache-Control", "no-cache");
out:
	tl_buf_free(&note);
	return err;
}

bool route_domain_on_loops(const char *path, size_t len)
{
	const char *p = path + strlen(DOMAINS_PREFIX), *end = path + len;
	const char *slash = memchr(p, '/', (size_t)(end - p));
	size_t n = slash != NULL ? (size_t)(end - slash) : 0;

	if (n == strlen("/bundle") && memcmp(slash, "/bundle", n) == 0)
		return true;
	if (n <= strlen("/bundles/") || memcmp(slash, "/bundles/", strlen("/bundles/")) != 0)
		return false;
	for (const char *q = slash + strlen("/bundles/"); q < end; q++)
		if (*q < '0' || *q > '9')
			return false;
	return true;
}

/* .../bundle or .../bundles/<seq>: served from what the version cache knows (versions.h). */
static int serve_version(bd_httpd_response *res, const struct http_request *req, struct daemon *d, const char *td,
	bool by_sequence, uint64_t sequence)
{
	struct watch_event v;
	int err;

	if ((err = version_find(&v, d, td, by_sequence, sequence)) != 0)
		return err;
	return serve_bytes(res, req, d, &v, by_sequence);
}

int route_domain_get(bd_httpd_response *res, const struct http_request *req, void *app)
{
	struct daemon *d = app;
	struct domain_path dp;
	bd_domain_state s;
	bd_entry *e = NULL;
	tl_buf text = tl_buf_make(BD_ENTRY_MAX_SIZE + 1);
	const char *rest, *slash;
	uint64_t index, sequence = 0;
	bool by_sequence = false;
	int err;

	if ((err = domain_path_parse(&dp, req->path)) != 0)
		return err;
	if (strcmp(dp.rest, "/diff") == 0)
		return route_domain_diff(res, req, d, dp.td);
	if (req->nparams != 0)
		return tl_error_set(TL_E_INPUT, "query parameters are only taken by /v1/domains/<td>/diff");
	if (dp.rest[0] == '\0') {
		if ((err = bd_registry_get(&s, d->registry, dp.td)) != 0)
			return err;
		return http_reply_json(res, 200, domain_json(&s));
	}
	if (strcmp(dp.rest, "/bundle") != 0) {
		if (strncmp(dp.rest, "/bundles/", 9) != 0)
			return tl_error_set(TL_E_NOTFOUND, "no such endpoint under /v1/domains/%s", dp.td);
		rest = dp.rest + 9;
		slash = strchr(rest, '/');
		if (tl_parse_u64(&sequence, rest, slash ? (size_t)(slash - rest) : strlen(rest)) != 0)
			return tl_error_set(TL_E_INPUT, "the sequence in the path is not an unsigned decimal");
		by_sequence = true;
		rest = slash ? slash : "";
		if (rest[0] != '\0' && strcmp(rest, "/proof") != 0 && strcmp(rest, "/entry") != 0)
			return tl_error_set(TL_E_NOTFOUND, "no such endpoint under /v1/domains/%s/bundles/", dp.td);
	} else {
		rest = "";
	}
	if (rest[0] == '\0')
		return serve_version(res, req, d, dp.td, by_sequence, sequence);
	if ((e = calloc(1, sizeof(*e))) == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
		goto out;
	}
	if ((err = version_load(&index, &text, e, d, dp.td, by_sequence, sequence)) != 0)
		goto out;
	if (strcmp(rest, "/entry") == 0) {
		if ((err = bd_httpd_reply(res, 200, "text/plain; charset=utf-8", text.data, text.len)) == 0)
			err = bd_httpd_add_header(res, "Cache-Control", HTTP_CACHE_CONTROL_IMMUTABLE);
	} else {
		err = serve_proof(res, d, index);
	}
out:
	free(e);
	tl_buf_free(&text);
	return err;
}

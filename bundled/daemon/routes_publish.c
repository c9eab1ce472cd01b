/*
 * Writes: POST /v1/domains (the operator registers a domain) and POST /v1/domains/<td>/keys,
 * /bundles, /revocations (publishers, authorised by their signatures alone). Every write is
 * rate limited per client address, must be application/json, and is answered only once the
 * checkpoint that covers it is durable: the answer carries the leaf index, that checkpoint
 * and the inclusion proof. Every refused write is logged with the client and the reason.
 * The checks themselves are bd_publish_*'s; a refused request changes nothing.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bundled/request.h"
#include "daemon.h"
#include "committed.h"
#include "logging.h"
#include "mirrors.h"
#include "routes.h"
#include "translog/proof.h"
#include "translog/text.h"

/* What one write handler did, for the answer. */
struct written {
	bd_publish_result res;
	char domain[BD_MAX_DOMAIN + 1];
	bd_entry *version; /* the bundle entry of a version, or NULL */
};

typedef int (*write_fn)(struct written *w, struct daemon *d, const struct http_request *req, const char *td);

static void log_refusal(const struct http_request *req, const char *addr, const char *reason)
{
	char safe_path[256], safe_reason[512];

	tl_text_printable(safe_path, sizeof(safe_path), req->path, strlen(req->path));
	tl_text_printable(safe_reason, sizeof(safe_reason), reason, strlen(reason));
	log_at(LOG_WARN, "write refused", "client=%s path=\"%s\" reason=\"%s\"", addr, safe_path, safe_reason);
}

/* "application/json", with parameters or not. */
static bool is_json(const struct http_request *req)
{
	const char *t = http_header(req, "Content-Type");
	size_t n = strlen("application/json");

	return t != NULL && strncmp(t, "application/json", n) == 0 && (t[n] == '\0' || t[n] == ';' || t[n] == ' ');
}

/* {"index","size","hashes"} of the entry at `index` against the served checkpoint (or the
 * newest, if that does not cover the entry yet: the usual case right after a commit), whose
 * note goes to `note`. */
static json_t *inclusion_json(tl_buf *note, struct daemon *d, uint64_t index)
{
	tl_hash hashes[TL_MAX_PROOF_HASHES];
	uint64_t size;
	size_t n;

	if (bd_cosigning_checkpoint(&size, note, d->cosigning, d->log, index + 1) != 0 || tl_log_prove_inclusion(hashes, &n, d->log, index, size) != 0)
		goto out;
	return route_proof_json("index", index, size, hashes, n);
out:
	return NULL;
}

/* schema/publish-response.schema.json */
static int reply_written(bd_httpd_response *res, struct daemon *d, const struct written *w)
{
	tl_buf note = tl_buf_make(1u << 20);
	json_t *proof = inclusion_json(&note, d, w->res.index);
	json_t *doc = NULL;
	char hex[2 * TL_HASH_SIZE + 1];
	int err;

	if (proof == NULL) {
		err = tl_error_code() ? tl_error_code() : tl_error_set(TL_E_NOMEM, "out of memory");
		goto out;
	}
	doc = json_pack("{s:s,s:I,s:I,s:I,s:b,s:s%,s:O}", "domain", w->domain, "index", (json_int_t)w->res.index,
		"first", (json_int_t)w->res.first, "entries", (json_int_t)w->res.n_entries, "existing",
		w->res.existing, "checkpoint", (const char *)note.data, note.len, "inclusion_proof", proof);
	if (doc != NULL && w->version != NULL) {
		tl_hex_encode(hex, w->version->sha256.b, TL_HASH_SIZE);
		if (json_object_set_new(doc, "sequence", json_integer((json_int_t)w->version->sequence)) != 0 ||
		    json_object_set_new(doc, "sha256", json_string(hex)) != 0 ||
		    json_object_set_new(doc, "cid", json_string(w->version->cid)) != 0) {
			json_decref(doc);
			doc = NULL;
		}
	}
	err = http_reply_json(res, w->res.existing ? 200 : 201, doc);
out:
	json_decref(proof);
	tl_buf_free(&note);
	return err;
}

/* A new version (of a bundle, or made by a revocation) is committed: its readers hear of it
 * before the publisher's answer is written. */
static void tell_readers(struct daemon *d, const struct written *w)
{
	struct watch_event ev;

	if (w->version == NULL || w->res.existing)
		return;
	watch_event_from_entry(&ev, w->version, w->res.index, w->res.tree_size);
	ev.revocation = w->res.first != w->res.index;
	ev.revocation_index = w->res.first;
	committed_version(d, &ev);
}

/* Rate limit, content type, then the write itself; refusals are logged. */
static int serve_write(bd_httpd_response *res, const struct http_request *req, struct daemon *d, const char *td,
	write_fn fn)
{
	struct written w;
	char addr[RATELIMIT_ADDR_MAX], msg[128];
	uint64_t wait;
	int err;

	if (d->replica != NULL)
		return mirrors_refuse_write(res, d);
	memset(&w, 0, sizeof(w));
	http_client_addr(addr, sizeof(addr), req);
	if ((wait = ratelimit_take(d->writes, addr, ratelimit_now_ms())) != 0) {
		snprintf(msg, sizeof(msg), "too many writes from %s; retry in %llu s", addr, (unsigned long long)wait);
		log_refusal(req, addr, msg);
		if ((err = route_reply_error(res, 429, "rate_limited", msg)) != 0)
			return err;
		return bd_httpd_add_header(res, "Retry-After", "%llu", (unsigned long long)wait);
	}
	if (!is_json(req)) {
		log_refusal(req, addr, "Content-Type is not application/json");
		return route_reply_error(res, 415, "unsupported_media_type", "the body must be application/json");
	}
	if (td != NULL)
		memcpy(w.domain, td, strlen(td) + 1);
	if ((err = fn(&w, d, req, td)) != 0) {
		log_refusal(req, addr, tl_error_message());
		return err;
	}
	tell_readers(d, &w);
	err = reply_written(res, d, &w);
	free(w.version);
	return err;
}

static int do_register(struct written *w, struct daemon *d, const struct http_request *req, const char *td)
{
	bd_register_request *r = NULL;
	const char *keys[BD_ENTRY_MAX_KEYS];
	int err;

	if ((err = auth_check_operator(&d->auth, req)) != 0)
		return err;
	if ((r = malloc(sizeof(*r))) == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	if ((err = bd_register_request_parse(r, req->raw->body, req->raw->body_len)) != 0)
		goto out;
	for (size_t i = 0; i < r->n_keys; i++)
		keys[i] = r->keys[i];
	if ((err = bd_publish_register(&w->res, d->publisher, r->domain, keys, r->n_keys, (uint64_t)time(NULL))) != 0)
		goto out;
	memcpy(w->domain, r->domain, sizeof(w->domain));
out:
	free(r);
	return err;
}

/* Parses an entry of the request and checks it is of `kind` and for the domain of the URL. */
static int entry_for(bd_entry **out, const uint8_t *text, size_t len, bd_entry_kind kind, const char *td)
{
	bd_entry *e = calloc(1, sizeof(*e));
	int err;

	if (e == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	if ((err = bd_entry_parse(e, text, len)) != 0)
		goto out;
	if (e->kind != kind) {
		err = tl_error_set(TL_E_INPUT, "the entry is not of kind %s", kind == BD_ENTRY_DOMAIN ? "domain" :
			kind == BD_ENTRY_BUNDLE ? "bundle" : "revocation");
		goto out;
	}
	if (strcmp(e->domain, td) != 0) {
		err = tl_error_set(TL_E_INPUT, "the entry is for %s, not %s", e->domain, td);
		goto out;
	}
	*out = e;
	e = NULL;
out:
	free(e);
	return err;
}

static int do_key_change(struct written *w, struct daemon *d, const struct http_request *req, const char *td)
{
	bd_signed_request r;
	bd_entry *e = NULL;
	int err;

	if ((err = bd_key_request_parse(&r, req->raw->body, req->raw->body_len)) != 0)
		return err;
	if ((err = entry_for(&e, r.entry, r.entry_len, BD_ENTRY_DOMAIN, td)) == 0)
		err = bd_publish_key_change(&w->res, d->publisher, r.entry, r.entry_len, (uint64_t)time(NULL));
	free(e);
	bd_signed_request_free(&r);
	return err;
}

static int do_bundle(struct written *w, struct daemon *d, const struct http_request *req, const char *td)
{
	bd_signed_request r;
	bd_entry *e = NULL;
	int err;

	if ((err = bd_bundle_request_parse(&r, req->raw->body, req->raw->body_len)) != 0)
		return err;
	if ((err = entry_for(&e, r.entry, r.entry_len, BD_ENTRY_BUNDLE, td)) != 0 ||
	    (err = bd_publish_bundle(&w->res, d->publisher, r.entry, r.entry_len, r.bundle, r.bundle_len,
		     (uint64_t)time(NULL))) != 0)
		goto out;
	w->version = e;
	e = NULL;
out:
	free(e);
	bd_signed_request_free(&r);
	return err;
}

static int do_revocation(struct written *w, struct daemon *d, const struct http_request *req, const char *td)
{
	bd_signed_request r;
	bd_entry *rev = NULL, *e = NULL;
	int err;

	if ((err = bd_revocation_request_parse(&r, req->raw->body, req->raw->body_len)) != 0)
		return err;
	if ((err = entry_for(&rev, r.revocation, r.revocation_len, BD_ENTRY_REVOCATION, td)) != 0 ||
	    (err = entry_for(&e, r.entry, r.entry_len, BD_ENTRY_BUNDLE, td)) != 0 ||
	    (err = bd_publish_revocation(&w->res, d->publisher, r.revocation, r.revocation_len, r.entry, r.entry_len,
		     (uint64_t)time(NULL))) != 0)
		goto out;
	w->version = e;
	e = NULL;
out:
	free(rev);
	free(e);
	bd_signed_request_free(&r);
	return err;
}

int route_domain_register(bd_httpd_response *res, const struct http_request *req, void *app)
{
	struct daemon *d = app;

	return publish_metrics_count(&d->publishes, res, PUBLISH_DOMAIN, serve_write(res, req, d, NULL, do_register));
}

int route_domain_post(bd_httpd_response *res, const struct http_request *req, void *app)
{
	static const struct {
		const char *rest;
		write_fn fn;
		enum publish_kind kind;
	} writes[] = {
		{ "/keys", do_key_change, PUBLISH_KEY },
		{ "/bundles", do_bundle, PUBLISH_BUNDLE },
		{ "/revocations", do_revocation, PUBLISH_REVOCATION },
	};
	struct daemon *d = app;
	struct domain_path dp;
	int err;

	if ((err = domain_path_parse(&dp, req->path)) != 0) {
		char addr[RATELIMIT_ADDR_MAX];

		log_refusal(req, http_client_addr(addr, sizeof(addr), req), tl_error_message());
		return publish_metrics_count(&d->publishes, res, PUBLISH_DOMAIN, err);
	}
	for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]); i++)
		if (strcmp(dp.rest, writes[i].rest) == 0)
			return publish_metrics_count(&d->publishes, res, writes[i].kind,
				serve_write(res, req, d, dp.td, writes[i].fn));
	return tl_error_set(TL_E_NOTFOUND, "no such endpoint: POST /v1/domains/%s%s", dp.td, dp.rest);
}

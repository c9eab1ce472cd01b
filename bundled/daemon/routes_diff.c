/*
 * GET /v1/domains/<td>/diff?from=A&to=B|latest&size=M: what an agent holding version A and a
 * checkpoint of size M needs to reach B and verify it without trusting this server (the
 * patch, B's entry and leaf index, its inclusion proof against the current checkpoint, that
 * checkpoint, and the consistency proof from M), as one answer: the binary framing of
 * bundled/diff_response.h when Accept names BD_DIFF_RESPONSE_MEDIA_TYPE, JSON
 * (schema/diff-response.schema.json) otherwise. When no diff can be given (A unknown, too
 * old, or B itself) the answer says so in its status and carries the rest: the agent then
 * fetches B whole by CID, or only refreshes its checkpoint.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "bundled/diff_response.h"
#include "daemon.h"
#include "diff_cache.h"
#include "routes.h"
#include "versions.h"

static bool wants_binary(const struct http_request *req)
{
	const char *accept = http_header(req, "Accept");

	return accept != NULL && strstr(accept, BD_DIFF_RESPONSE_MEDIA_TYPE) != NULL;
}

/* schema/diff-response.schema.json */
static json_t *response_json(const bd_diff_response *r)
{
	json_t *doc = json_pack("{s:s,s:I,s:I,s:I,s:s%,s:s%,s:o,s:o}", "status", bd_diff_status_name(r->status),
		"from", (json_int_t)r->from, "to", (json_int_t)r->to, "index", (json_int_t)r->index, "entry",
		(const char *)r->entry, r->entry_len, "checkpoint", (const char *)r->checkpoint, r->checkpoint_len,
		"inclusion_proof", route_proof_json("index", r->index, r->size, r->inclusion, r->n_inclusion),
		"consistency_proof", route_proof_json("old", r->old_size, r->size, r->consistency, r->n_consistency));
	tl_buf b64 = tl_buf_make(2 * BD_DIFF_RESPONSE_MAX_PATCH);

	if (doc != NULL && r->patch_len != 0 &&
	    (tl_base64_encode(&b64, r->patch, r->patch_len) != 0 ||
		    json_object_set_new(doc, "patch", json_stringn((const char *)b64.data, b64.len)) != 0)) {
		json_decref(doc);
		doc = NULL;
	}
	tl_buf_free(&b64);
	return doc;
}

/* "latest" or a sequence. */
static int parse_to(uint64_t *to, bool *latest, const struct http_request *req)
{
	const char *v = http_query(req, "to");

	*latest = v == NULL || strcmp(v, "latest") == 0;
	if (*latest)
		return 0;
	return http_query_u64(to, req, "to");
}

/* How A relates to B: a patch is made only for a known A not too far below B. */
static int pick_status(bd_diff_status *out, struct daemon *d, const char *td, uint64_t from, uint64_t to)
{
	uint64_t index;
	int err;

	if (from == to) {
		*out = BD_DIFF_STATUS_CURRENT;
		return 0;
	}
	if (from > to)
		return tl_error_set(TL_E_INPUT, "from=%llu is above to=%llu", (unsigned long long)from,
			(unsigned long long)to);
	if ((err = bd_registry_version(&index, d->registry, td, from)) == TL_E_NOTFOUND) {
		*out = BD_DIFF_STATUS_UNKNOWN;
		return 0;
	}
	if (err != 0)
		return err;
	*out = to - from > DIFF_CACHE_MAX_AGE ? BD_DIFF_STATUS_TOO_OLD : BD_DIFF_STATUS_PATCH;
	return 0;
}

int route_domain_diff(bd_httpd_response *res, const struct http_request *req, struct daemon *d, const char *td)
{
	bd_diff_response *r = calloc(1, sizeof(*r));
	bd_entry *e = calloc(1, sizeof(*e));
	tl_buf text = tl_buf_make(BD_ENTRY_MAX_SIZE + 1), note = tl_buf_make(BD_DIFF_RESPONSE_MAX_CHECKPOINT);
	tl_buf patch = tl_buf_make(BD_DIFF_RESPONSE_MAX_PATCH);
	uint64_t old_size = 0;
	bool latest;
	int err;

	if (r == NULL || e == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
		goto out;
	}
	if ((err = http_query_u64(&r->from, req, "from")) != 0 || (err = parse_to(&r->to, &latest, req)) != 0 ||
	    (http_query(req, "size") != NULL && (err = http_query_u64(&old_size, req, "size")) != 0))
		goto out;
	if ((err = version_load(&r->index, &text, e, d, td, !latest, r->to)) != 0)
		goto out;
	r->to = e->sequence;
	/* The served checkpoint, with the witnesses' cosignatures when it covers the entry. */
	if ((err = bd_cosigning_checkpoint(&r->size, &note, d->cosigning, d->log, r->index + 1)) != 0)
		goto out;
	if (old_size > r->size) {
		err = tl_error_set(TL_E_INPUT, "size=%llu is beyond this log's checkpoint (%llu)",
			(unsigned long long)old_size, (unsigned long long)r->size);
		goto out;
	}
	r->old_size = old_size;
	if ((err = tl_log_prove_inclusion(r->inclusion, &r->n_inclusion, d->log, r->index, r->size)) != 0 ||
	    (old_size > 0 && old_size < r->size &&
		    (err = tl_log_prove_consistency(r->consistency, &r->n_consistency, d->log, old_size, r->size)) != 0))
		goto out;
	if ((err = pick_status(&r->status, d, td, r->from, r->to)) != 0)
		goto out;
	if (r->status == BD_DIFF_STATUS_PATCH) {
		if ((err = diff_cache_get(&patch, d->diffs, td, r->from, r->to)) != 0)
			goto out;
		r->patch = patch.data;
		r->patch_len = patch.len;
	}
	r->entry = text.data;
	r->entry_len = text.len;
	r->checkpoint = note.data;
	r->checkpoint_len = note.len;
	if (wants_binary(req)) {
		res->status = 200;
		res->content_type = BD_DIFF_RESPONSE_MEDIA_TYPE;
		err = bd_diff_response_write(&res->body, r);
	} else {
		err = http_reply_json(res, 200, response_json(r));
	}
	if (err == 0 && (err = bd_httpd_add_header(res, "Vary", "Accept")) == 0)
		err = bd_httpd_add_header(res, "Cache-Control", "no-cache");
out:
	tl_buf_free(&patch);
	tl_buf_free(&note);
	tl_buf_free(&text);
	free(e);
	free(r);
	return err;
}

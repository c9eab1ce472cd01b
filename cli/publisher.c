#include "publisher.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bundled/request.h"
#include "cli.h"
#include "translog/checkpoint.h"
#include "translog/hash.h"
#include "translog/tlog_proof.h"

int pub_open(struct pub_session *s, const char *cmd, const struct cli_server *server, const char *authorization)
{
	bd_client_options o = { .authorization = authorization };
	json_t *log = NULL;
	const char *origin, *vkey;
	int err;

	memset(s, 0, sizeof(*s));
	s->cmd = cmd;
	cli_server_http_options(&o, server);
	if ((err = bd_client_open(&s->client, &o)) != 0 || (err = pub_get_json(&log, s, "/v1/log")) != 0)
		goto out;
	origin = json_string_value(json_object_get(log, "origin"));
	vkey = json_string_value(json_object_get(log, "vkey"));
	if (origin == NULL || vkey == NULL || strlen(origin) > TL_MAX_KEY_NAME) {
		err = tl_error_set(TL_E_INPUT, "GET /v1/log: no origin or vkey in the answer");
		goto out;
	}
	memcpy(s->origin, origin, strlen(origin) + 1);
	if ((err = tl_verifier_parse(&s->log_key, vkey, strlen(vkey))) != 0)
		err = tl_error_wrap(err, "GET /v1/log: the log's verifier key");
out:
	json_decref(log);
	return err;
}

void pub_close(struct pub_session *s)
{
	bd_client_close(s->client);
	tl_verifier_free(s->log_key);
	memset(s, 0, sizeof(*s));
}

int pub_get_json(json_t **out, struct pub_session *s, const char *path)
{
	tl_buf body = tl_buf_make(BD_CLIENT_MAX_REPLY);
	json_t *doc;
	int err;

	if ((err = bd_client_get(&body, s->client, path, BD_CLIENT_MAX_REPLY)) != 0)
		goto out;
	doc = json_loadb((const char *)body.data, body.len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(doc)) {
		json_decref(doc);
		err = tl_error_set(TL_E_INPUT, "GET %s: the answer is not a JSON object", path);
		goto out;
	}
	*out = doc;
out:
	tl_buf_free(&body);
	return err;
}

static int get_u64(uint64_t *out, const json_t *doc, const char *name)
{
	const json_t *v = json_object_get(doc, name);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return tl_error_set(TL_E_INPUT, "the answer has no unsigned integer \"%s\"", name);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

int pub_domain_sequences(uint64_t *next, bool *has_newest, uint64_t *newest, struct pub_session *s,
	const char *domain)
{
	char path[64 + BD_MAX_DOMAIN];
	json_t *doc = NULL;
	int err;

	snprintf(path, sizeof(path), "/v1/domains/%s", domain);
	if ((err = pub_get_json(&doc, s, path)) != 0 || (err = get_u64(next, doc, "next_sequence")) != 0)
		goto out;
	*has_newest = json_object_get(doc, "sequence") != NULL;
	if (*has_newest)
		err = get_u64(newest, doc, "sequence");
out:
	json_decref(doc);
	return err;
}

int pub_version_entry(bd_entry *e, tl_buf *canonical, bd_bundle *b, const char *domain, uint64_t sequence,
	uint64_t refresh_hint)
{
	memset(e, 0, sizeof(*e));
	if (strlen(domain) > BD_MAX_DOMAIN)
		return tl_error_set(TL_E_INPUT, "the domain name is longer than %u bytes", BD_MAX_DOMAIN);
	e->kind = BD_ENTRY_BUNDLE;
	memcpy(e->domain, domain, strlen(domain) + 1);
	e->time = (uint64_t)time(NULL);
	return bd_entry_set_version(e, canonical, NULL, b, sequence, refresh_hint, NULL);
}

int pub_sign(tl_buf *text, bd_entry *e, const struct pub_session *s, const tl_signer *key)
{
	int err;

	if ((err = bd_entry_sign(e, s->origin, key)) != 0)
		return err;
	return bd_entry_write(text, e);
}

/* The answer's inclusion proof as a tlog-proof file, checked against the log key. */
static int answer_proof(tl_buf *file, const json_t *reply, const struct pub_session *s, const tl_buf *leaf)
{
	const json_t *proof = json_object_get(reply, "inclusion_proof");
	const json_t *list = json_object_get(proof, "hashes");
	const char *note = json_string_value(json_object_get(reply, "checkpoint"));
	tl_hash hashes[TL_TLOG_PROOF_MAX_HASHES], leaf_hash;
	tl_tlog_proof parsed;
	uint64_t index;
	size_t n;
	int err;

	if (note == NULL || !json_is_array(list) || json_array_size(list) > TL_TLOG_PROOF_MAX_HASHES)
		return tl_error_set(TL_E_INPUT, "the answer has no checkpoint or inclusion proof");
	if ((err = get_u64(&index, proof, "index")) != 0)
		return err;
	for (size_t i = 0; i < json_array_size(list); i++) {
		const char *h = json_string_value(json_array_get(list, i));

		if (h == NULL || tl_base64_decode(hashes[i].b, TL_HASH_SIZE, &n, h, strlen(h)) != 0 || n != TL_HASH_SIZE)
			return tl_error_set(TL_E_INPUT, "the answer's proof hash %zu is not base64 of 32 bytes", i);
	}
	if ((err = tl_tlog_proof_write(file, NULL, 0, index, hashes, json_array_size(list), (const uint8_t *)note,
		     strlen(note))) != 0 ||
	    (err = tl_tlog_proof_parse(&parsed, file->data, file->len)) != 0)
		return err;
	tl_hash_leaf(&leaf_hash, leaf->data, leaf->len);
	if ((err = tl_tlog_proof_verify(NULL, &parsed, &leaf_hash, s->log_key)) != 0)
		return tl_error_wrap(err, "the daemon's answer does not prove the entry is logged");
	return 0;
}

static int write_file(const char *path, const tl_buf *b)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (f == NULL)
		return tl_error_set(TL_E_IO, "%s: cannot create", path);
	ok = fwrite(b->data, 1, b->len, f) == b->len;
	ok = (fclose(f) == 0) && ok;
	return ok ? 0 : tl_error_set(TL_E_IO, "%s: write error", path);
}

int pub_submit(json_t **reply, struct pub_session *s, const char *path, const tl_buf *body, tl_buf *leaf,
	const char *proof_out)
{
	tl_buf answer = tl_buf_make(BD_CLIENT_MAX_REPLY), file = tl_buf_make(TL_TLOG_PROOF_MAX_SIZE);
	json_t *doc = NULL;
	int err;

	if ((err = bd_client_post_json(&answer, s->client, path, body->data, body->len)) != 0)
		goto out;
	doc = json_loadb((const char *)answer.data, answer.len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(doc)) {
		err = tl_error_set(TL_E_INPUT, "POST %s: the answer is not a JSON object", path);
		goto out;
	}
	if (leaf->len == 0 && (err = bd_client_entry(leaf, s->client,
		(uint64_t)json_integer_value(json_object_get(doc, "index")))) != 0)
		goto out;
	if ((err = answer_proof(&file, doc, s, leaf)) != 0)
		goto out;
	if (proof_out != NULL && (err = write_file(proof_out, &file)) != 0)
		goto out;
	*reply = doc;
	doc = NULL;
out:
	json_decref(doc);
	tl_buf_free(&answer);
	tl_buf_free(&file);
	return err;
}

int pub_publish_version(json_t **reply, struct pub_session *s, const char *domain, const tl_signer *key,
	bd_bundle *b, uint64_t sequence, uint64_t refresh_hint, const char *proof_out)
{
	char path[64 + BD_MAX_DOMAIN];
	tl_buf canonical = tl_buf_make(BD_MAX_BUNDLE_SIZE), text = tl_buf_make(BD_ENTRY_MAX_SIZE + 1);
	tl_buf body = tl_buf_make(BD_REQUEST_MAX_BODY);
	bd_entry *e = calloc(1, sizeof(*e));
	int err;

	if (e == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
		goto out;
	}
	snprintf(path, sizeof(path), "/v1/domains/%s/bundles", domain);
	if ((err = pub_version_entry(e, &canonical, b, domain, sequence, refresh_hint)) != 0 ||
	    (err = pub_sign(&text, e, s, key)) != 0 ||
	    (err = bd_bundle_request_write(&body, text.data, text.len, canonical.data, canonical.len)) != 0)
		goto out;
	err = pub_submit(reply, s, path, &body, &text, proof_out);
out:
	free(e);
	tl_buf_free(&canonical);
	tl_buf_free(&text);
	tl_buf_free(&body);
	return err;
}

int pub_print(const json_t *reply, bool json, const char *verb)
{
	static const char *const members[] = { "domain", "sequence", "index", "sha256", "cid", "checkpoint" };
	const char *domain = json_string_value(json_object_get(reply, "domain"));
	json_int_t index = json_integer_value(json_object_get(reply, "index"));
	const json_t *seq = json_object_get(reply, "sequence");

	if (json) {
		json_t *out = json_object();
		char *text;

		for (size_t i = 0; out != NULL && i < sizeof(members) / sizeof(members[0]); i++) {
			json_t *v = json_object_get(reply, members[i]);

			if (v != NULL && json_object_set(out, members[i], v) != 0)
				break;
		}
		text = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(out);
		if (text == NULL)
			return tl_error_set(TL_E_NOMEM, "out of memory");
		printf("%s\n", text);
		free(text);
		return 0;
	}
	printf("%s %s", verb, domain ? domain : "?");
	if (seq != NULL)
		printf(" sequence %" JSON_INTEGER_FORMAT, json_integer_value(seq));
	printf(" at log index %" JSON_INTEGER_FORMAT "%s", index,
		json_is_true(json_object_get(reply, "existing")) ? " (already logged)" : "");
	if (json_object_get(reply, "cid") != NULL)
		printf(": sha256 %s cid %s", json_string_value(json_object_get(reply, "sha256")),
			json_string_value(json_object_get(reply, "cid")));
	printf("\n");
	return 0;
}

int pub_finish(struct pub_session *s, int err, json_t *reply, bool json, const char *verb)
{
	int rc = err ? cli_fail(s->cmd, err) : CLI_OK;

	if (err == 0 && pub_print(reply, json, verb) != 0)
		rc = cli_fail(s->cmd, tl_error_code());
	json_decref(reply);
	pub_close(s);
	return rc;
}

#include "bundled/ipfs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundled/http.h"
#include "ipfs_reply.h"
#include "translog/hash.h"

struct bd_ipfs {
	bd_http *http;
};

static const char *cid_text(char buf[BD_CID_TEXT_MAX], const bd_cid *cid)
{
	if (bd_cid_format(buf, BD_CID_TEXT_MAX, cid) != 0)
		snprintf(buf, BD_CID_TEXT_MAX, "(codec 0x%llx)", (unsigned long long)cid->codec);
	return buf;
}

/* Drops what users add to the base URL of the RPC API: trailing slashes and "/api/v0".
 * bd_http_open checks the rest. */
static int normalise_api(char out[BD_IPFS_URL_MAX], const char *api)
{
	size_t n;

	if (api == NULL || api[0] == '\0')
		return tl_error_set(TL_E_INPUT, "ipfs: no API URL given");
	n = strlen(api);
	if (n >= BD_IPFS_URL_MAX)
		return tl_error_set(TL_E_INPUT, "ipfs: API URL longer than %d bytes", BD_IPFS_URL_MAX - 1);
	memcpy(out, api, n + 1);
	while (n > 0 && out[n - 1] == '/')
		out[--n] = '\0';
	if (n >= 7 && strcmp(out + n - 7, "/api/v0") == 0)
		out[n -= 7] = '\0';
	return 0;
}

int bd_ipfs_open(bd_ipfs **out, const bd_ipfs_options *opts)
{
	char api[BD_IPFS_URL_MAX];
	bd_http_options ho;
	bd_ipfs *c = NULL;
	int err;

	if ((err = normalise_api(api, opts->api)) != 0)
		return err;
	memset(&ho, 0, sizeof(ho));
	ho.name = "ipfs";
	ho.url = api;
	ho.connect_timeout_ms = opts->connect_timeout_ms;
	ho.timeout_ms = opts->timeout_ms;
	ho.authorization = opts->authorization;
	ho.proxy = opts->proxy;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	if ((err = bd_http_open(&c->http, &ho)) != 0)
		goto out;
	*out = c;
	c = NULL;
out:
	free(c);
	return err;
}

void bd_ipfs_close(bd_ipfs *ipfs)
{
	if (ipfs == NULL)
		return;
	bd_http_close(ipfs->http);
	free(ipfs);
}

const char *bd_ipfs_api(const bd_ipfs *ipfs)
{
	return bd_http_url(ipfs->http);
}

/* The status and body of a failed call as one message and category. The RPC API answers
 * a missing block or pin with a 500 and a message, so a 404 (or a 409) means the URL is
 * not an RPC API at all: the caller's input, not a missing thing. */
static int http_failure(const char *what, const bd_http_reply *r)
{
	char msg[300];
	int code = bd_http_status_err(r->status);

	if (code == TL_E_NOTFOUND || code == TL_E_CONFLICT)
		code = TL_E_INPUT;
	if (bd_ipfs_reply__error(msg, sizeof(msg), r->body.data, r->body.len) != 0 || msg[0] == '\0')
		bd_http_reply_text(msg, sizeof(msg), r);
	if (r->status == 404)
		return tl_error_set(code, "ipfs %s: 404: %s (is the URL a Kubo RPC API?)", what, msg);
	return tl_error_set(code, "ipfs %s: %ld: %s", what, r->status, msg);
}

/*
 * One POST /api/v0/<cmd>?<query>: the body is read into r->body (whose cap the caller
 * sets); an HTTP status other than 200 becomes an error with the node's message. `upload`
 * (may be NULL) is sent as the one multipart file part that block/put and add take.
 */
static int call(bd_ipfs *c, const char *what, const char *query, const void *upload, size_t upload_len,
	bd_http_reply *r)
{
	char path[BD_HTTP_PATH_MAX];
	bd_http_request req;
	int err;

	if ((size_t)snprintf(path, sizeof(path), "/api/v0/%s%s%s", what, query ? "?" : "",
			query ? query : "") >= sizeof(path))
		return tl_error_set(TL_E_INTERNAL, "ipfs %s: URL too long", what);
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.what = what;
	req.path = path;
	req.upload = upload;
	req.upload_len = upload_len;
	if ((err = bd_http_request_send(r, c->http, &req)) != 0)
		return err;
	if (r->status != 200)
		return http_failure(what, r);
	/* Kubo's X-Stream-Error trailer: an error after a 200 status had been sent. */
	if (r->stream_error[0] != '\0')
		return tl_error_set(TL_E_UNAVAILABLE, "ipfs %s: the node failed while answering: %s", what,
			r->stream_error);
	return 0;
}

/* Keeps the message of `err` but names the call: "ipfs <what> <cid>: ...". */
static int with_cid(int err, const char *what, const bd_cid *cid)
{
	char text[BD_CID_TEXT_MAX];
	const char *m = tl_error_message();
	size_t k = strlen("ipfs ") + strlen(what);

	/* The HTTP layer already says "ipfs <what>: "; put the CID after <what>. */
	if (strncmp(m, "ipfs ", 5) == 0 && strncmp(m + 5, what, strlen(what)) == 0 && m[k] == ':') {
		char rest[512];

		snprintf(rest, sizeof(rest), "%s", m + k + 2);
		return tl_error_set(err, "ipfs %s %s: %s", what, cid_text(text, cid), rest);
	}
	return tl_error_wrap(err, "ipfs %s %s", what, cid_text(text, cid));
}

int bd_ipfs_version(bd_ipfs_info *out, bd_ipfs *ipfs)
{
	bd_http_reply r = bd_http_reply_make(BD_IPFS_MAX_REPLY);
	int err;

	if ((err = call(ipfs, "version", NULL, NULL, 0, &r)) != 0)
		goto out;
	if ((err = bd_ipfs_reply__version(out, r.body.data, r.body.len)) != 0)
		err = tl_error_wrap(err, "ipfs version");
out:
	tl_buf_free(&r.body);
	return err;
}

int bd_ipfs_block_put(bd_ipfs *ipfs, const bd_block *block)
{
	char text[BD_CID_TEXT_MAX];
	bd_http_reply r = bd_http_reply_make(BD_IPFS_MAX_REPLY);
	const char *query;
	tl_hash h;
	int err;

	cid_text(text, &block->cid);
	if (block->len > BD_IPFS_MAX_BLOCK)
		return tl_error_set(TL_E_INPUT, "ipfs block/put %s: %zu bytes is over %u", text, block->len,
			BD_IPFS_MAX_BLOCK);
	tl_sha256(&h, block->data, block->len);
	if (!tl_hash_equal(&h, &block->cid.digest))
		return tl_error_set(TL_E_INPUT, "ipfs block/put %s: the bytes do not hash to the CID", text);
	/*
	 * Kubo reads cid-codec (and refuses the deprecated "format" beside any cid-codec but
	 * raw); js-ipfs reads only format and version, with format defaulting to dag-pb and
	 * version to 0. So raw leaves send format=raw and cid-codec=raw, which both read the
	 * same way, and dag-pb nodes send cid-codec=dag-pb and version=1 but no format. Both
	 * ignore what they do not know. The reply's CID is checked whatever the node did.
	 */
	if (block->cid.codec == BD_CODEC_RAW)
		query = "format=raw&cid-codec=raw&mhtype=sha2-256&mhlen=-1&cid-base=base32";
	else if (block->cid.codec == BD_CODEC_DAG_PB)
		query = "cid-codec=dag-pb&version=1&mhtype=sha2-256&mhlen=-1&cid-base=base32";
	else
		return tl_error_set(TL_E_INPUT, "ipfs block/put %s: codec 0x%llx is neither raw nor dag-pb", text,
			(unsigned long long)block->cid.codec);
	if ((err = call(ipfs, "block/put", query, block->data, block->len, &r)) != 0)
		goto out;
	err = bd_ipfs_reply__block_put(&block->cid, block->len, r.body.data, r.body.len);
out:
	if (err != 0)
		err = with_cid(err, "block/put", &block->cid);
	tl_buf_free(&r.body);
	return err;
}

int bd_ipfs_put_dag(bd_ipfs *ipfs, const bd_dag *dag)
{
	int err;

	for (size_t i = 0; i < bd_dag_count(dag); i++)
		if ((err = bd_ipfs_block_put(ipfs, bd_dag_block(dag, i))) != 0)
			return err;
	return 0;
}

static int cid_query(char *out, size_t cap, const bd_cid *cid, const char *extra)
{
	char text[BD_CID_TEXT_MAX];

	if (bd_cid_format(text, sizeof(text), cid) != 0)
		return tl_error_wrap(TL_E_INPUT, "ipfs");
	snprintf(out, cap, "arg=%s%s", text, extra);
	return 0;
}

int bd_ipfs_block_get(tl_buf *out, bd_ipfs *ipfs, const bd_cid *cid)
{
	char query[BD_CID_TEXT_MAX + 64];
	size_t room = tl_buf_room(out);
	bd_http_reply r;
	tl_hash h;
	int err;

	if ((err = cid_query(query, sizeof(query), cid, "")) != 0)
		return err;
	r = bd_http_reply_make(room < BD_IPFS_MAX_BLOCK ? room : BD_IPFS_MAX_BLOCK);
	if ((err = call(ipfs, "block/get", query, NULL, 0, &r)) != 0) {
		err = with_cid(err, "block/get", cid);
		goto out;
	}
	tl_sha256(&h, r.body.data, r.body.len);
	if (!tl_hash_equal(&h, &cid->digest)) {
		char text[BD_CID_TEXT_MAX];

		err = tl_error_set(TL_E_CONFLICT, "ipfs block/get %s: the node returned %zu bytes that do not hash to the CID",
			cid_text(text, cid), r.body.len);
		goto out;
	}
	err = tl_buf_append(out, r.body.data ? r.body.data : (const uint8_t *)"", r.body.len);
out:
	tl_buf_free(&r.body);
	return err;
}

int bd_ipfs_pin_add(bd_ipfs *ipfs, const bd_cid *root)
{
	char query[BD_CID_TEXT_MAX + 64];
	bd_http_reply r = bd_http_reply_make(BD_IPFS_MAX_REPLY);
	int err;

	if ((err = cid_query(query, sizeof(query), root, "&recursive=true&progress=false&cid-base=base32")) != 0)
		return err;
	if ((err = call(ipfs, "pin/add", query, NULL, 0, &r)) != 0)
		goto out;
	err = bd_ipfs_reply__pins(root, r.body.data, r.body.len);
out:
	if (err != 0)
		err = with_cid(err, "pin/add", root);
	tl_buf_free(&r.body);
	return err;
}

int bd_ipfs_pin_ls(int *pinned, bd_ipfs *ipfs, const bd_cid *root)
{
	char query[BD_CID_TEXT_MAX + 64];
	bd_http_reply r = bd_http_reply_make(BD_IPFS_MAX_REPLY);
	int err;

	*pinned = 0;
	if ((err = cid_query(query, sizeof(query), root, "&type=recursive&cid-base=base32")) != 0)
		return err;
	err = call(ipfs, "pin/ls", query, NULL, 0, &r);
	/* Both Kubo and js-ipfs answer "<cid> is not pinned" with a 500 and that message. */
	if (err == TL_E_UNAVAILABLE && strstr(tl_error_message(), "is not pinned") != NULL) {
		tl_error_clear();
		err = 0;
		goto out;
	}
	if (err != 0 || (err = bd_ipfs_reply__pin_ls(pinned, root, r.body.data, r.body.len)) != 0)
		err = with_cid(err, "pin/ls", root);
out:
	tl_buf_free(&r.body);
	return err;
}

int bd_ipfs_pin_rm(bd_ipfs *ipfs, const bd_cid *root)
{
	char query[BD_CID_TEXT_MAX + 64];
	bd_http_reply r = bd_http_reply_make(BD_IPFS_MAX_REPLY);
	int err;

	if ((err = cid_query(query, sizeof(query), root, "&recursive=true&cid-base=base32")) != 0)
		return err;
	err = call(ipfs, "pin/rm", query, NULL, 0, &r);
	if (err == TL_E_UNAVAILABLE && strstr(tl_error_message(), "not pinned") != NULL) {
		err = with_cid(TL_E_NOTFOUND, "pin/rm", root);
		goto out;
	}
	if (err != 0 || (err = bd_ipfs_reply__pins(root, r.body.data, r.body.len)) != 0)
		err = with_cid(err, "pin/rm", root);
out:
	tl_buf_free(&r.body);
	return err;
}

int bd_ipfs_cat(tl_buf *out, bd_ipfs *ipfs, const bd_cid *root, size_t size)
{
	char query[BD_CID_TEXT_MAX + 64], text[BD_CID_TEXT_MAX];
	bd_http_reply r;
	size_t cap;
	int err;

	if (size > tl_buf_room(out))
		return tl_error_set(TL_E_INPUT, "ipfs cat %s: %zu bytes do not fit the buffer", cid_text(text, root), size);
	if ((err = cid_query(query, sizeof(query), root, "")) != 0)
		return err;
	/* One byte more than expected, so that a longer reply is seen as longer, not cut. */
	cap = size < SIZE_MAX ? size + 1 : size;
	r = bd_http_reply_make(cap);
	err = call(ipfs, "cat", query, NULL, 0, &r);
	if (err != 0 && r.over && r.status == 200) {
		err = tl_error_set(TL_E_CONFLICT, "ipfs cat %s: the node returned more than the %zu bytes expected",
			cid_text(text, root), size);
		goto out;
	}
	if (err != 0) {
		err = with_cid(err, "cat", root);
		goto out;
	}
	if (r.body.len != size) {
		err = tl_error_set(TL_E_CONFLICT, "ipfs cat %s: the node returned %zu bytes, expected %zu",
			cid_text(text, root), r.body.len, size);
		goto out;
	}
	err = tl_buf_append(out, r.body.data ? r.body.data : (const uint8_t *)"", r.body.len);
out:
	tl_buf_free(&r.body);
	return err;
}

int bd_ipfs_add(bd_cid *root, bd_ipfs *ipfs, const void *data, size_t len, const bd_chunker *chunker)
{
	char spec[64], query[160];
	bd_http_reply r = bd_http_reply_make(BD_IPFS_MAX_REPLY);
	int err;

	if (chunker->kind != BD_CHUNK_FIXED)
		return tl_error_set(TL_E_INPUT, "ipfs add: only fixed-size chunkers are known to IPFS nodes");
	if (len > BD_IPFS_MAX_ADD)
		return tl_error_set(TL_E_INPUT, "ipfs add: %zu bytes is over %u", len, BD_IPFS_MAX_ADD);
	if ((err = bd_chunker_format(spec, sizeof(spec), chunker)) != 0)
		return err;
	snprintf(query, sizeof(query),
		"cid-version=1&raw-leaves=true&chunker=%s&pin=false&progress=false&cid-base=base32", spec);
	if ((err = call(ipfs, "add", query, data, len, &r)) == 0 &&
			(err = bd_ipfs_reply__add(root, r.body.data, r.body.len)) != 0)
		err = tl_error_wrap(err, "ipfs add");
	tl_buf_free(&r.body);
	return err;
}

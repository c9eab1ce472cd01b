/*
 * The log's side of C2SP tlog-witness add-checkpoint, over bundled's HTTP transport.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundled/http.h"
#include "bundled/witness_client.h"
#include "translog/checkpoint.h"
#include "translog/cosig.h"
#include "translog/note.h"
#include "translog/proof.h"
#include "translog/witness.h"

/* A witness's 200 answer: a few signature lines (the spec allows several keys per witness). */
#define MAX_REPLY (64u * 1024)

struct bd_witness_client {
	bd_http *http;
	const tl_verifier *key;
	uint64_t known_size;
};

int bd_witness_client_open(bd_witness_client **out, const bd_witness_client_options *opts)
{
	bd_witness_client *c;
	bd_http_options h = { 0 };
	int err;

	if (opts->url == NULL || opts->key == NULL)
		return tl_error_set(TL_E_INPUT, "a witness needs a URL and a key");
	if (tl_verifier_type(opts->key) != TL_KEY_TYPE_COSIGNATURE)
		return tl_error_set(TL_E_INPUT, "witness key \"%s\" is not a cosigner key (type 0x04)",
			tl_verifier_name(opts->key));
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	h.name = "witness";
	h.url = opts->url;
	h.timeout_ms = opts->timeout_ms;
	h.connect_timeout_ms = opts->connect_timeout_ms;
	h.ca_file = opts->ca_file;
	if ((err = bd_http_open(&c->http, &h)) != 0) {
		free(c);
		return err;
	}
	c->key = opts->key;
	*out = c;
	return 0;
}

void bd_witness_client_close(bd_witness_client *c)
{
	if (c == NULL)
		return;
	bd_http_close(c->http);
	free(c);
}

uint64_t bd_witness_client_known_size(const bd_witness_client *c)
{
	return c->known_size;
}

/* Appends the lines of n from index `first` on that are by the witness's key. */
static int keep_own_lines(tl_buf *out, const tl_note *n, size_t first, const tl_verifier *key)
{
	const char *name = tl_verifier_name(key);
	uint8_t sig[256];
	size_t len;
	int err;

	for (size_t i = first; i < n->n_sigs; i++) {
		const tl_note_sig *s = &n->sigs[i];

		if (s->key_id != tl_verifier_key_id(key) || s->name_len != strlen(name) || memcmp(s->name, name, s->name_len) != 0)
			continue;
		if ((err = tl_note_sig_bytes(sig, sizeof(sig), &len, s)) != 0 ||
		    (err = tl_note_write_sig_line(out, s->name, s->name_len, s->key_id, sig, len)) != 0)
			return err;
	}
	return 0;
}

/* Checks a 200 answer against the checkpoint and keeps the witness's own lines. */
static int take_cosignature(tl_buf *cosig, uint64_t *timestamp, bd_witness_client *c, const uint8_t *note,
	size_t note_len, const tl_buf *body)
{
	tl_note *n = malloc(sizeof(*n));
	size_t first, start = cosig->len;
	uint64_t ts;
	int err;

	if (n == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	if ((err = tl_note_parse(n, note, note_len)) != 0)
		goto out;
	first = n->n_sigs;
	if ((err = tl_note_add_sig_lines(n, body->data, body->len)) != 0) {
		err = tl_error_wrap(TL_E_INPUT, "witness %s: the answer is not signature lines", bd_http_url(c->http));
		goto out;
	}
	if ((err = tl_cosig_verify(&ts, n, c->key)) != 0) {
		err = tl_error_wrap(TL_E_UNAUTHORIZED, "witness %s: %s", bd_http_url(c->http),
			err == TL_E_NOTFOUND ? "no cosignature by its key in the answer" : "its cosignature does not verify");
		goto out;
	}
	if ((err = keep_own_lines(cosig, n, first, c->key)) != 0)
		goto out;
	if (timestamp != NULL)
		*timestamp = ts;
out:
	if (err)
		tl_buf_truncate(cosig, start);
	free(n);
	return err;
}

int bd_witness_client_add_checkpoint(tl_buf *cosig, uint64_t *timestamp, uint64_t *known_size, bd_witness_client *c,
	uint64_t old_size, const tl_hash *proof, size_t n_proof, const uint8_t *note, size_t note_len)
{
	tl_buf body = tl_buf_make(TL_WITNESS_MAX_REQUEST);
	bd_http_reply r = bd_http_reply_make(MAX_REPLY);
	bd_http_request req = { 0 };
	char text[BD_HTTP_TEXT_MAX + 1];
	uint64_t size;
	int err;

	if ((err = tl_witness_request_write(&body, old_size, proof, n_proof, note, note_len)) != 0)
		goto out;
	req.method = "POST";
	req.what = "add-checkpoint";
	req.path = "/add-checkpoint";
	req.body = body.data;
	req.body_len = body.len;
	req.body_type = "text/plain";
	if ((err = bd_http_request_send(&r, c->http, &req)) != 0)
		goto out;
	switch (r.status) {
	case 200:
		err = take_cosignature(cosig, timestamp, c, note, note_len, &r.body);
		break;
	case 409:
		if (tl_witness_size_parse(&size, r.body.data, r.body.len) != 0) {
			err = tl_error_set(TL_E_INPUT, "witness %s: 409 without a size: %s", bd_http_url(c->http),
				bd_http_reply_text(text, sizeof(text), &r));
			break;
		}
		if (known_size != NULL)
			*known_size = size;
		err = tl_error_set(TL_E_CONFLICT, "witness %s: it last cosigned size %" PRIu64 ", not %" PRIu64,
			bd_http_url(c->http), size, old_size);
		break;
	case 422:
		err = tl_error_set(TL_E_INPUT, "witness %s: 422, the consistency proof was refused: %s", bd_http_url(c->http),
			bd_http_reply_text(text, sizeof(text), &r));
		break;
	default:
		err = tl_error_set(bd_http_status_err(r.status), "witness %s: HTTP %ld: %s", bd_http_url(c->http), r.status,
			bd_http_reply_text(text, sizeof(text), &r));
		break;
	}
out:
	tl_buf_free(&body);
	tl_buf_free(&r.body);
	return err;
}

static int attempt(tl_buf *cosig, uint64_t *known, bd_witness_client *c, const uint8_t *note, size_t note_len,
	uint64_t size, bd_witness_prove_fn prove, void *ctx)
{
	tl_hash proof[TL_MAX_PROOF_HASHES];
	size_t n = 0;
	int err;

	if (c->known_size > size)
		return tl_error_set(TL_E_CONFLICT, "witness %s cosigned size %" PRIu64 ", above this checkpoint's %" PRIu64,
			bd_http_url(c->http), c->known_size, size);
	if (c->known_size > 0 && c->known_size < size && (err = prove(proof, &n, ctx, c->known_size, size)) != 0)
		return tl_error_wrap(err, "witness %s: proof from %" PRIu64 " to %" PRIu64, bd_http_url(c->http),
			c->known_size, size);
	return bd_witness_client_add_checkpoint(cosig, NULL, known, c, c->known_size, proof, n, note, note_len);
}

int bd_witness_client_cosign(tl_buf *cosig, bd_witness_client *c, const uint8_t *note, size_t note_len,
	bd_witness_prove_fn prove, void *ctx)
{
	tl_note *n = malloc(sizeof(*n));
	tl_checkpoint cp;
	uint64_t known = 0;
	int err;

	if (n == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	if ((err = tl_note_parse(n, note, note_len)) != 0 || (err = tl_checkpoint_parse(&cp, n->text, n->text_len)) != 0)
		goto out;
	err = attempt(cosig, &known, c, note, note_len, cp.size, prove, ctx);
	if (err == TL_E_CONFLICT && known != c->known_size) {
		/* The witness told us where it stands: one retry from there. */
		c->known_size = known;
		err = attempt(cosig, &known, c, note, note_len, cp.size, prove, ctx);
		if (err == TL_E_CONFLICT)
			c->known_size = known;
	}
	if (err == 0)
		c->known_size = cp.size;
out:
	free(n);
	return err;
}

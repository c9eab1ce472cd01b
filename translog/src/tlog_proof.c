#include "translog/tlog_proof.h"

#include <inttypes.h>
#include <string.h>

#include "translog/note.h"
#include "translog/proof.h"

_Static_assert(TL_TLOG_PROOF_MAX_HASHES == TL_MAX_PROOF_HASHES, "proof file and proof limits agree");

#define EXTRA_PREFIX "extra "
#define INDEX_PREFIX "index "
/* base64 of TL_TLOG_PROOF_MAX_EXTRA bytes */
#define MAX_EXTRA_B64 ((TL_TLOG_PROOF_MAX_EXTRA + 2) / 3 * 4)
#define HASH_B64_LEN 44

static int has_prefix(const uint8_t *line, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(line, prefix, n) == 0;
}

static int parse_hash_line(tl_hash *out, const uint8_t *line, size_t len)
{
	size_t got = 0;

	if (len != HASH_B64_LEN)
		return tl_error_set(TL_E_INPUT, "hash line is %zu characters, want %d (base64 of 32 bytes)", len, HASH_B64_LEN);
	if (tl_base64_decode(out->b, TL_HASH_SIZE, &got, (const char *)line, len) != 0 || got != TL_HASH_SIZE)
		return tl_error_set(TL_E_INPUT, "hash line is not canonical base64 of 32 bytes");
	return 0;
}

int tl_tlog_proof_parse(tl_tlog_proof *out, const uint8_t *text, size_t len)
{
	tl_cursor c = tl_cursor_make(text, len);
	const uint8_t *line;
	size_t line_len, line_no = 1;
	tl_tlog_proof p;
	tl_checkpoint cp;
	tl_note note;
	int err;

	memset(&p, 0, sizeof(p));
	if (len > TL_TLOG_PROOF_MAX_SIZE)
		return tl_error_set(TL_E_INPUT, "tlog-proof is %zu bytes, larger than %u", len, TL_TLOG_PROOF_MAX_SIZE);
	if (tl_cursor_line(&line, &line_len, &c, strlen(TL_TLOG_PROOF_HEADER)) != 0 ||
	    line_len != strlen(TL_TLOG_PROOF_HEADER) || memcmp(line, TL_TLOG_PROOF_HEADER, line_len) != 0)
		return tl_error_set(TL_E_INPUT, "tlog-proof line 1: not \"" TL_TLOG_PROOF_HEADER "\"");
	line_no++;
	if (tl_cursor_line(&line, &line_len, &c, strlen(EXTRA_PREFIX) + MAX_EXTRA_B64) != 0)
		return tl_error_wrap(TL_E_INPUT, "tlog-proof line %zu", line_no);
	if (has_prefix(line, line_len, EXTRA_PREFIX)) {
		uint8_t extra[TL_TLOG_PROOF_MAX_EXTRA];
		size_t got = 0;

		p.extra_b64 = (const char *)line + strlen(EXTRA_PREFIX);
		p.extra_b64_len = line_len - strlen(EXTRA_PREFIX);
		if (p.extra_b64_len == 0)
			return tl_error_set(TL_E_INPUT, "tlog-proof line %zu: empty extra data (omit the line instead)", line_no);
		if (tl_base64_decode(extra, sizeof(extra), &got, p.extra_b64, p.extra_b64_len) != 0)
			return tl_error_wrap(TL_E_INPUT, "tlog-proof line %zu: extra", line_no);
		line_no++;
		if (tl_cursor_line(&line, &line_len, &c, strlen(INDEX_PREFIX) + 20) != 0)
			return tl_error_wrap(TL_E_INPUT, "tlog-proof line %zu", line_no);
	}
	if (!has_prefix(line, line_len, INDEX_PREFIX))
		return tl_error_set(TL_E_INPUT, "tlog-proof line %zu: expected \"index <n>\"", line_no);
	if (tl_parse_u64(&p.index, (const char *)line + strlen(INDEX_PREFIX), line_len - strlen(INDEX_PREFIX)) != 0)
		return tl_error_wrap(TL_E_INPUT, "tlog-proof line %zu: index", line_no);
	for (;;) {
		line_no++;
		if (tl_cursor_line(&line, &line_len, &c, HASH_B64_LEN) != 0)
			return tl_error_wrap(TL_E_INPUT, "tlog-proof line %zu (proof hashes must end with an empty line)", line_no);
		if (line_len == 0)
			break;
		if (p.n_hashes == TL_TLOG_PROOF_MAX_HASHES)
			return tl_error_set(TL_E_INPUT, "tlog-proof line %zu: more than %d proof hashes", line_no,
				TL_TLOG_PROOF_MAX_HASHES);
		if ((err = parse_hash_line(&p.hashes[p.n_hashes], line, line_len)) != 0)
			return tl_error_wrap(err, "tlog-proof line %zu", line_no);
		p.n_hashes++;
	}
	p.checkpoint = tl_cursor_here(&c);
	p.checkpoint_len = tl_cursor_left(&c);
	if ((err = tl_note_parse(&note, p.checkpoint, p.checkpoint_len)) != 0)
		return tl_error_wrap(err, "tlog-proof checkpoint (from line %zu)", line_no + 1);
	if ((err = tl_checkpoint_parse(&cp, note.text, note.text_len)) != 0)
		return tl_error_wrap(err, "tlog-proof checkpoint (from line %zu)", line_no + 1);
	*out = p;
	return 0;
}

int tl_tlog_proof_write(tl_buf *out, const uint8_t *extra, size_t extra_len, uint64_t index, const tl_hash *hashes,
	size_t n_hashes, const uint8_t *checkpoint_note, size_t note_len)
{
	size_t start = out->len;
	tl_checkpoint cp;
	tl_note note;
	int err;

	if (extra_len > TL_TLOG_PROOF_MAX_EXTRA)
		return tl_error_set(TL_E_INPUT, "tlog-proof extra data is %zu bytes, more than %d", extra_len,
			TL_TLOG_PROOF_MAX_EXTRA);
	if (n_hashes > TL_TLOG_PROOF_MAX_HASHES)
		return tl_error_set(TL_E_INPUT, "tlog-proof has %zu hashes, more than %d", n_hashes, TL_TLOG_PROOF_MAX_HASHES);
	if ((err = tl_note_parse(&note, checkpoint_note, note_len)) != 0 ||
	    (err = tl_checkpoint_parse(&cp, note.text, note.text_len)) != 0)
		return tl_error_wrap(err, "tlog-proof checkpoint");
	if ((err = tl_buf_append_str(out, TL_TLOG_PROOF_HEADER "\n")) != 0)
		goto out;
	if (extra_len > 0 && ((err = tl_buf_append_str(out, EXTRA_PREFIX)) != 0 ||
			      (err = tl_base64_encode(out, extra, extra_len)) != 0 ||
			      (err = tl_buf_append_u8(out, '\n')) != 0))
		goto out;
	if ((err = tl_buf_printf(out, INDEX_PREFIX "%" PRIu64 "\n", index)) != 0 ||
	    (err = tl_tlog_proof_write_hashes(out, hashes, n_hashes)) != 0 ||
	    (err = tl_buf_append_u8(out, '\n')) != 0 ||
	    (err = tl_buf_append(out, checkpoint_note, note_len)) != 0)
		goto out;
out:
	if (err)
		tl_buf_truncate(out, start);
	return err;
}

int tl_tlog_proof_extra(uint8_t *out, size_t cap, size_t *len, const tl_tlog_proof *p)
{
	*len = 0;
	if (p->extra_b64 == NULL)
		return 0;
	if (tl_base64_decode(out, cap, len, p->extra_b64, p->extra_b64_len) != 0)
		return tl_error_wrap(TL_E_INPUT, "tlog-proof extra");
	return 0;
}

int tl_tlog_proof_verify(tl_checkpoint *cp_out, const tl_tlog_proof *p, const tl_hash *leaf_hash,
	const tl_verifier *log_key)
{
	tl_checkpoint cp;
	int err;

	if ((err = tl_checkpoint_open(&cp, p->checkpoint, p->checkpoint_len, log_key)) != 0)
		return err;
	if (p->index >= cp.size)
		return tl_error_set(TL_E_UNAUTHORIZED, "tlog-proof index %" PRIu64 " is not in the tree of size %" PRIu64,
			p->index, cp.size);
	if ((err = tl_verify_inclusion(leaf_hash, p->index, cp.size, p->hashes, p->n_hashes, &cp.root)) != 0)
		return tl_error_wrap(err, "leaf %" PRIu64 " is not proven in %s at size %" PRIu64, p->index, cp.origin, cp.size);
	if (cp_out)
		*cp_out = cp;
	return 0;
}

int tl_tlog_proof_read_hashes(tl_hash *out, size_t cap, size_t *n, const uint8_t *text, size_t len)
{
	tl_cursor c = tl_cursor_make(text, len);
	size_t count = 0;
	int err;

	*n = 0;
	if (cap > TL_TLOG_PROOF_MAX_HASHES)
		cap = TL_TLOG_PROOF_MAX_HASHES;
	while (tl_cursor_left(&c) > 0) {
		const uint8_t *line;
		size_t line_len;

		if (count == cap)
			return tl_error_set(TL_E_INPUT, "more than %zu proof hashes", cap);
		if (tl_cursor_line(&line, &line_len, &c, HASH_B64_LEN) != 0)
			return tl_error_wrap(TL_E_INPUT, "proof hash line %zu", count + 1);
		if ((err = parse_hash_line(&out[count], line, line_len)) != 0)
			return tl_error_wrap(err, "proof hash line %zu", count + 1);
		count++;
	}
	*n = count;
	return 0;
}

int tl_tlog_proof_write_hashes(tl_buf *out, const tl_hash *hashes, size_t n)
{
	int err;

	for (size_t i = 0; i < n; i++)
		if ((err = tl_base64_encode(out, hashes[i].b, TL_HASH_SIZE)) != 0 || (err = tl_buf_append_u8(out, '\n')) != 0)
			return err;
	return 0;
}

/* The diff response framing: one reader, one writer (bundled/diff_response.h). */
#include "bundled/diff_response.h"

#include <string.h>

static const char *const status_names[] = { "patch", "current", "unknown_base", "base_too_old" };

const char *bd_diff_status_name(bd_diff_status s)
{
	return (unsigned)s <= BD_DIFF_STATUS_LAST ? status_names[s] : "?";
}

/* The rules both sides keep: the reader refuses what the writer would not write. */
static int check(const bd_diff_response *r)
{
	if ((unsigned)r->status > BD_DIFF_STATUS_LAST)
		return tl_error_set(TL_E_INPUT, "diff response: unknown status %u", (unsigned)r->status);
	if (r->entry_len == 0 || r->entry_len > BD_ENTRY_MAX_SIZE)
		return tl_error_set(TL_E_INPUT, "diff response: entry of %zu bytes (1..%u)", r->entry_len,
			BD_ENTRY_MAX_SIZE);
	if (r->checkpoint_len == 0 || r->checkpoint_len > BD_DIFF_RESPONSE_MAX_CHECKPOINT)
		return tl_error_set(TL_E_INPUT, "diff response: checkpoint of %zu bytes", r->checkpoint_len);
	if (r->n_inclusion > TL_MAX_PROOF_HASHES || r->n_consistency > TL_MAX_PROOF_HASHES)
		return tl_error_set(TL_E_INPUT, "diff response: a proof of more than %d hashes", TL_MAX_PROOF_HASHES);
	if (r->index >= r->size || r->old_size > r->size)
		return tl_error_set(TL_E_INPUT, "diff response: index %llu or old size %llu outside the tree of %llu",
			(unsigned long long)r->index, (unsigned long long)r->old_size, (unsigned long long)r->size);
	if ((r->status == BD_DIFF_STATUS_PATCH) != (r->patch_len != 0))
		return tl_error_set(TL_E_INPUT, "diff response: status %s with %s patch", bd_diff_status_name(r->status),
			r->patch_len ? "a" : "no");
	if (r->patch_len > BD_DIFF_RESPONSE_MAX_PATCH)
		return tl_error_set(TL_E_INPUT, "diff response: patch of %zu bytes is over %zu", r->patch_len,
			(size_t)BD_DIFF_RESPONSE_MAX_PATCH);
	return 0;
}

static int append_hashes(tl_buf *out, const tl_hash *h, size_t n)
{
	int err = tl_buf_append_u8(out, (uint8_t)n);

	for (size_t i = 0; err == 0 && i < n; i++)
		err = tl_buf_append(out, h[i].b, TL_HASH_SIZE);
	return err;
}

int bd_diff_response_write(tl_buf *out, const bd_diff_response *r)
{
	size_t start = out->len;
	int err;

	if ((err = check(r)) != 0)
		return err;
	if ((err = tl_buf_append(out, BD_DIFF_RESPONSE_MAGIC, 4)) != 0 ||
	    (err = tl_buf_append_u8(out, BD_DIFF_RESPONSE_VERSION)) != 0 ||
	    (err = tl_buf_append_u8(out, (uint8_t)r->status)) != 0 || (err = tl_buf_append_u16be(out, 0)) != 0 ||
	    (err = tl_buf_append_u64be(out, r->from)) != 0 || (err = tl_buf_append_u64be(out, r->to)) != 0 ||
	    (err = tl_buf_append_u64be(out, r->index)) != 0 || (err = tl_buf_append_u64be(out, r->size)) != 0 ||
	    (err = tl_buf_append_u64be(out, r->old_size)) != 0 ||
	    (err = tl_buf_append_u16be(out, (uint16_t)r->entry_len)) != 0 ||
	    (err = tl_buf_append(out, r->entry, r->entry_len)) != 0 ||
	    (err = tl_buf_append_u32be(out, (uint32_t)r->checkpoint_len)) != 0 ||
	    (err = tl_buf_append(out, r->checkpoint, r->checkpoint_len)) != 0 ||
	    (err = append_hashes(out, r->inclusion, r->n_inclusion)) != 0 ||
	    (err = append_hashes(out, r->consistency, r->n_consistency)) != 0 ||
	    (err = tl_buf_append_u32be(out, (uint32_t)r->patch_len)) != 0 ||
	    (r->patch_len && (err = tl_buf_append(out, r->patch, r->patch_len)) != 0))
		tl_buf_truncate(out, start);
	return err;
}

static int read_hashes(tl_hash *h, size_t *n, tl_cursor *c, const char *what)
{
	uint8_t count;

	if (tl_cursor_u8(&count, c) != 0 || count > TL_MAX_PROOF_HASHES)
		return tl_error_set(TL_E_INPUT, "diff response: bad %s proof length", what);
	for (size_t i = 0; i < count; i++)
		if (tl_cursor_copy(h[i].b, c, TL_HASH_SIZE) != 0)
			return tl_error_set(TL_E_INPUT, "diff response: truncated %s proof", what);
	*n = count;
	return 0;
}

int bd_diff_response_read(bd_diff_response *out, const uint8_t *data, size_t len)
{
	tl_cursor c = tl_cursor_make(data, len);
	const uint8_t *magic;
	uint8_t version, status;
	uint16_t reserved, entry_len;
	uint32_t note_len, patch_len;
	int err;

	memset(out, 0, sizeof(*out));
	if (tl_cursor_take(&magic, &c, 4) != 0 || memcmp(magic, BD_DIFF_RESPONSE_MAGIC, 4) != 0)
		return tl_error_set(TL_E_INPUT, "diff response: not a BDDR response");
	if (tl_cursor_u8(&version, &c) != 0 || version != BD_DIFF_RESPONSE_VERSION)
		return tl_error_set(TL_E_INPUT, "diff response: unsupported version");
	if (tl_cursor_u8(&status, &c) != 0 || tl_cursor_u16be(&reserved, &c) != 0 || reserved != 0)
		return tl_error_set(TL_E_INPUT, "diff response: bad status or reserved field");
	out->status = (bd_diff_status)status;
	if (tl_cursor_u64be(&out->from, &c) != 0 || tl_cursor_u64be(&out->to, &c) != 0 ||
	    tl_cursor_u64be(&out->index, &c) != 0 || tl_cursor_u64be(&out->size, &c) != 0 ||
	    tl_cursor_u64be(&out->old_size, &c) != 0)
		return tl_error_set(TL_E_INPUT, "diff response: truncated header");
	if (tl_cursor_u16be(&entry_len, &c) != 0 || entry_len > BD_ENTRY_MAX_SIZE ||
	    tl_cursor_take(&out->entry, &c, entry_len) != 0)
		return tl_error_set(TL_E_INPUT, "diff response: bad or truncated entry");
	out->entry_len = entry_len;
	if (tl_cursor_u32be(&note_len, &c) != 0 || note_len > BD_DIFF_RESPONSE_MAX_CHECKPOINT ||
	    tl_cursor_take(&out->checkpoint, &c, note_len) != 0)
		return tl_error_set(TL_E_INPUT, "diff response: bad or truncated checkpoint");
	out->checkpoint_len = note_len;
	if ((err = read_hashes(out->inclusion, &out->n_inclusion, &c, "inclusion")) != 0 ||
	    (err = read_hashes(out->consistency, &out->n_consistency, &c, "consistency")) != 0)
		return err;
	if (tl_cursor_u32be(&patch_len, &c) != 0 || patch_len > BD_DIFF_RESPONSE_MAX_PATCH ||
	    (patch_len && tl_cursor_take(&out->patch, &c, patch_len) != 0))
		return tl_error_set(TL_E_INPUT, "diff response: bad or truncated patch");
	out->patch_len = patch_len;
	if (tl_cursor_left(&c) != 0)
		return tl_error_set(TL_E_INPUT, "diff response: %zu bytes after the patch", tl_cursor_left(&c));
	return check(out);
}

#include "bundled/diff.h"

#include <string.h>

#include <zstd.h>

static const uint8_t magic[4] = { 'B', 'D', 'I', 'F' };
#define FORMAT_VERSION 1

/* The smallest window that holds the reference and the new version together. */
static unsigned window_for(size_t from_len, size_t to_len)
{
	unsigned log = BD_DIFF_MIN_WINDOW_LOG;

	while (log < BD_DIFF_MAX_WINDOW_LOG && ((size_t)1 << log) < from_len + to_len)
		log++;
	return log;
}

static int write_header(tl_buf *out, const bd_diff_header *h)
{
	uint8_t head[BD_DIFF_HEADER_SIZE];

	memcpy(head, magic, 4);
	head[4] = FORMAT_VERSION;
	head[5] = 0;
	head[6] = (uint8_t)h->window_log;
	head[7] = 0;
	tl_store_u64be(head + 8, h->from_size);
	memcpy(head + 16, h->from_sha256.b, 32);
	tl_store_u64be(head + 48, h->to_size);
	memcpy(head + 56, h->to_sha256.b, 32);
	return tl_buf_append(out, head, sizeof(head));
}

int bd_diff_make(tl_buf *out, const uint8_t *from, size_t from_len, const uint8_t *to, size_t to_len)
{
	size_t start = out->len, bound, n;
	bd_diff_header h;
	ZSTD_CCtx *cctx = NULL;
	int err;

	if (from_len > BD_DIFF_MAX_VERSION_SIZE || to_len > BD_DIFF_MAX_VERSION_SIZE)
		return tl_error_set(TL_E_INPUT, "a version is larger than %u bytes", BD_DIFF_MAX_VERSION_SIZE);
	h.window_log = window_for(from_len, to_len);
	h.from_size = from_len;
	h.to_size = to_len;
	tl_sha256(&h.from_sha256, from, from_len);
	tl_sha256(&h.to_sha256, to, to_len);
	bound = ZSTD_compressBound(to_len);
	if ((err = write_header(out, &h)) != 0 || (err = tl_buf_reserve(out, bound)) != 0)
		goto out;
	if ((cctx = ZSTD_createCCtx()) == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
		goto out;
	}
	if (ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, BD_DIFF_LEVEL)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, (int)h.window_log)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 0)) ||
	    ZSTD_isError(ZSTD_CCtx_refPrefix(cctx, from, from_len))) {
		err = tl_error_set(TL_E_INTERNAL, "zstd refused the diff parameters");
		goto out;
	}
	n = ZSTD_compress2(cctx, out->data + out->len, bound, to, to_len);
	if (ZSTD_isError(n)) {
		err = tl_error_set(TL_E_INTERNAL, "zstd: %s", ZSTD_getErrorName(n));
		goto out;
	}
	out->len += n;
	out->data[out->len] = '\0';
out:
	ZSTD_freeCCtx(cctx);
	if (err)
		tl_buf_truncate(out, start);
	return err;
}

int bd_diff_read_header(bd_diff_header *out, const uint8_t *diff, size_t len)
{
	tl_cursor c = tl_cursor_make(diff, len);
	const uint8_t *p = NULL;
	uint8_t version, flags, window, reserved;

	if (tl_cursor_take(&p, &c, 4) != 0 || memcmp(p, magic, 4) != 0)
		return tl_error_set(TL_E_INPUT, "not a bundled diff (bad magic)");
	if (tl_cursor_u8(&version, &c) != 0 || tl_cursor_u8(&flags, &c) != 0 || tl_cursor_u8(&window, &c) != 0 ||
	    tl_cursor_u8(&reserved, &c) != 0 || tl_cursor_u64be(&out->from_size, &c) != 0 ||
	    tl_cursor_copy(out->from_sha256.b, &c, 32) != 0 || tl_cursor_u64be(&out->to_size, &c) != 0 ||
	    tl_cursor_copy(out->to_sha256.b, &c, 32) != 0)
		return tl_error_set(TL_E_INPUT, "diff header truncated");
	if (version != FORMAT_VERSION)
		return tl_error_set(TL_E_INPUT, "diff format version %u is not supported (1 is)", version);
	if (flags != 0 || reserved != 0)
		return tl_error_set(TL_E_INPUT, "diff header has unknown flags");
	if (window < BD_DIFF_MIN_WINDOW_LOG || window > BD_DIFF_MAX_WINDOW_LOG)
		return tl_error_set(TL_E_INPUT, "diff window 2^%u is outside 2^%u..2^%u", window, BD_DIFF_MIN_WINDOW_LOG,
			BD_DIFF_MAX_WINDOW_LOG);
	if (out->from_size > BD_DIFF_MAX_VERSION_SIZE || out->to_size > BD_DIFF_MAX_VERSION_SIZE)
		return tl_error_set(TL_E_INPUT, "diff version size over %u bytes", BD_DIFF_MAX_VERSION_SIZE);
	out->window_log = window;
	return 0;
}

int bd_diff_apply(tl_buf *out, const uint8_t *from, size_t from_len, const uint8_t *diff, size_t diff_len)
{
	size_t start = out->len, n;
	bd_diff_header h;
	tl_hash got;
	ZSTD_DCtx *dctx = NULL;
	unsigned long long declared;
	const uint8_t *frame = diff + BD_DIFF_HEADER_SIZE;
	size_t frame_len;
	int err;

	if ((err = bd_diff_read_header(&h, diff, diff_len)) != 0)
		return err;
	frame_len = diff_len - BD_DIFF_HEADER_SIZE;
	tl_sha256(&got, from, from_len);
	if (from_len != h.from_size || memcmp(got.b, h.from_sha256.b, 32) != 0)
		return tl_error_set(TL_E_CONFLICT, "the diff was made from another version (size %llu, not %zu, or "
						   "another SHA-256)", (unsigned long long)h.from_size, from_len);
	/* The frame must say the promised size itself, so the output is never guessed. */
	declared = ZSTD_getFrameContentSize(frame, frame_len);
	if (declared != h.to_size)
		return tl_error_set(TL_E_INPUT, "the patch does not declare the new version's size");
	if (ZSTD_findFrameCompressedSize(frame, frame_len) != frame_len)
		return tl_error_set(TL_E_INPUT, "the patch is not exactly one zstd frame");
	if ((err = tl_buf_reserve(out, (size_t)h.to_size)) != 0)
		return err;
	if ((dctx = ZSTD_createDCtx()) == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	if (ZSTD_isError(ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, (int)h.window_log)) ||
	    ZSTD_isError(ZSTD_DCtx_refPrefix(dctx, from, from_len))) {
		err = tl_error_set(TL_E_INTERNAL, "zstd refused the diff parameters");
		goto out;
	}
	n = ZSTD_decompressDCtx(dctx, out->data + out->len, (size_t)h.to_size, frame, frame_len);
	if (ZSTD_isError(n) || n != h.to_size) {
		err = tl_error_set(TL_E_INPUT, "the patch is corrupt: %s",
			ZSTD_isError(n) ? ZSTD_getErrorName(n) : "wrong output size");
		goto out;
	}
	tl_sha256(&got, out->data + out->len, n);
	if (memcmp(got.b, h.to_sha256.b, 32) != 0) {
		err = tl_error_set(TL_E_INPUT, "the patch is corrupt: the result's SHA-256 is not the promised one");
		goto out;
	}
	out->len += n;
	out->data[out->len] = '\0';
out:
	ZSTD_freeDCtx(dctx);
	if (err)
		tl_buf_truncate(out, start);
	return err;
}

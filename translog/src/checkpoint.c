#include "translog/checkpoint.h"

#include <inttypes.h>
#include <string.h>

#include "translog/note.h"

static int check_origin(const char *origin, size_t len)
{
	int err;

	if (len == 0)
		return tl_error_set(TL_E_INPUT, "checkpoint origin is empty");
	if (len > TL_MAX_ORIGIN)
		return tl_error_set(TL_E_INPUT, "checkpoint origin is longer than %d bytes", TL_MAX_ORIGIN);
	if ((err = tl_note_check_text((const uint8_t *)origin, len, 0)) != 0)
		return tl_error_wrap(err, "checkpoint origin");
	return 0;
}

int tl_checkpoint_format(tl_buf *out, const tl_checkpoint *cp)
{
	size_t origin_len = strnlen(cp->origin, sizeof(cp->origin));
	size_t start = out->len;
	int err;

	if (origin_len == sizeof(cp->origin))
		return tl_error_set(TL_E_INPUT, "checkpoint origin is not NUL-terminated");
	if ((err = check_origin(cp->origin, origin_len)) != 0)
		return err;
	if ((err = tl_buf_printf(out, "%s\n%" PRIu64 "\n", cp->origin, cp->size)) != 0 ||
	    (err = tl_base64_encode(out, cp->root.b, TL_HASH_SIZE)) != 0 ||
	    (err = tl_buf_append_u8(out, '\n')) != 0) {
		tl_buf_truncate(out, start);
		return err;
	}
	return 0;
}

int tl_checkpoint_parse(tl_checkpoint *out, const uint8_t *text, size_t len)
{
	tl_cursor c = tl_cursor_make(text, len);
	const uint8_t *line;
	size_t line_len, root_len = 0;
	tl_checkpoint cp;
	int err;

	memset(&cp, 0, sizeof(cp));
	if (tl_cursor_line(&line, &line_len, &c, TL_MAX_ORIGIN) != 0)
		return tl_error_wrap(TL_E_INPUT, "checkpoint origin line");
	if ((err = check_origin((const char *)line, line_len)) != 0)
		return err;
	memcpy(cp.origin, line, line_len);
	cp.origin[line_len] = '\0';
	if (tl_cursor_line(&line, &line_len, &c, 20) != 0)
		return tl_error_wrap(TL_E_INPUT, "checkpoint size line");
	if (tl_parse_u64(&cp.size, (const char *)line, line_len) != 0)
		return tl_error_wrap(TL_E_INPUT, "checkpoint size line");
	if (tl_cursor_line(&line, &line_len, &c, 44) != 0)
		return tl_error_wrap(TL_E_INPUT, "checkpoint root hash line");
	if (tl_base64_decode(cp.root.b, TL_HASH_SIZE, &root_len, (const char *)line, line_len) != 0)
		return tl_error_wrap(TL_E_INPUT, "checkpoint root hash line");
	if (root_len != TL_HASH_SIZE)
		return tl_error_set(TL_E_INPUT, "checkpoint root hash is %zu bytes, want %d", root_len, TL_HASH_SIZE);
	if (tl_cursor_left(&c) != 0)
		return tl_error_set(TL_E_INPUT, "checkpoint has %zu bytes after the root hash line (extension lines are not accepted)",
			tl_cursor_left(&c));
	*out = cp;
	return 0;
}

int tl_checkpoint_sign(tl_buf *out, const tl_checkpoint *cp, const tl_signer *s)
{
	tl_buf text = tl_buf_make(TL_MAX_CHECKPOINT_TEXT);
	int err;

	if (strcmp(cp->origin, tl_signer_name(s)) != 0)
		return tl_error_set(TL_E_INPUT, "checkpoint origin '%s' differs from the signer's name '%s'", cp->origin,
			tl_signer_name(s));
	if ((err = tl_checkpoint_format(&text, cp)) != 0)
		goto out;
	err = tl_note_sign(out, text.data, text.len, &s, 1);
out:
	tl_buf_free(&text);
	return err;
}

int tl_checkpoint_open(tl_checkpoint *out, const uint8_t *note, size_t len, const tl_verifier *v)
{
	tl_note n;
	tl_checkpoint cp;
	tl_hash empty;
	int err;

	if (tl_verifier_type(v) != TL_KEY_TYPE_ED25519)
		return tl_error_set(TL_E_INPUT, "log key %s+%08x has type 0x%02x: checkpoints are opened with a type 0x01 key",
			tl_verifier_name(v), (unsigned)tl_verifier_key_id(v), tl_verifier_type(v));
	if ((err = tl_note_open(&n, note, len, &v, 1)) != 0)
		return err;
	if ((err = tl_checkpoint_parse(&cp, n.text, n.text_len)) != 0)
		return err;
	if (strcmp(cp.origin, tl_verifier_name(v)) != 0)
		return tl_error_set(TL_E_UNAUTHORIZED, "checkpoint origin '%s' is not the log's name '%s'", cp.origin,
			tl_verifier_name(v));
	/* Signed but false: the tree of size 0 has one root. Refused here so that no verifier
	 * (CLI, follower, proof files) can forget the check and take it for a starting point. */
	tl_hash_empty(&empty);
	if (cp.size == 0 && !tl_hash_equal(&cp.root, &empty))
		return tl_error_set(TL_E_UNAUTHORIZED, "checkpoint of size 0 has a root other than the empty tree's");
	*out = cp;
	return 0;
}

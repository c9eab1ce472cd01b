#include "translog/note.h"

#include <inttypes.h>
#include <string.h>

#include "translog/text.h"

/* "— " : U+2014 EM DASH in UTF-8, then a space. */
static const char sig_prefix[] = "\xe2\x80\x94 ";
#define SIG_PREFIX_LEN 4
/* Base64 is checked in slices of this many characters, so a large (post-quantum)
 * signature by an unknown key is validated without a large buffer. */
#define B64_SLICE 1024
/* Known keys carry at most a 4-byte key id, an 8-byte timestamp and a 64-byte signature. */
#define MAX_KNOWN_SIG 128

int tl_note_check_text(const uint8_t *s, size_t len, int allow_newline)
{
	size_t i = 0;

	while (i < len) {
		uint32_t r;
		size_t n;

		/* ASCII fast path: most notes are entirely ASCII. */
		if (s[i] >= 0x20 && s[i] < 0x80) {
			i++;
			continue;
		}
		if ((n = tl_utf8_next(&r, s + i, len - i)) == 0)
			return tl_error_set(TL_E_INPUT, "invalid UTF-8 at byte %zu", i);
		if (r < 0x20 && !(r == '\n' && allow_newline))
			return tl_error_set(TL_E_INPUT, "control character 0x%02x at byte %zu", (unsigned)r, i);
		i += n;
	}
	return 0;
}

/* Checks that b64 is canonical base64 of at least 5 bytes and returns the leading key id. */
static int check_sig_b64(uint32_t *key_id, const char *b64, size_t len)
{
	uint8_t slice[B64_SLICE / 4 * 3];
	size_t total = 0;

	if (len % 4 != 0)
		return tl_error_set(TL_E_INPUT, "signature base64 length %zu is not a multiple of 4", len);
	for (size_t i = 0; i < len; i += B64_SLICE) {
		size_t n = len - i < B64_SLICE ? len - i : B64_SLICE, got = 0;

		/* Padding is only allowed at the very end, not at the end of a slice. */
		if (i + n < len && memchr(b64 + i, '=', n) != NULL)
			return tl_error_set(TL_E_INPUT, "signature base64 has padding before its end");
		if (tl_base64_decode(slice, sizeof(slice), &got, b64 + i, n) != 0)
			return tl_error_wrap(TL_E_INPUT, "signature");
		if (i == 0 && got >= 4)
			*key_id = tl_load_u32be(slice);
		total += got;
	}
	if (total < 5)
		return tl_error_set(TL_E_INPUT, "signature is %zu bytes, shorter than a key id and a signature", total);
	return 0;
}

/* Parses one line (without its '\n') into sig. */
static int parse_sig_line(tl_note_sig *sig, const char *line, size_t len)
{
	const char *space;
	int err;

	if (len < SIG_PREFIX_LEN || memcmp(line, sig_prefix, SIG_PREFIX_LEN) != 0)
		return tl_error_set(TL_E_INPUT, "signature line does not start with an em dash and a space");
	line += SIG_PREFIX_LEN;
	len -= SIG_PREFIX_LEN;
	space = memchr(line, ' ', len);
	if (space == NULL)
		return tl_error_set(TL_E_INPUT, "signature line has no space between key name and signature");
	sig->name = line;
	sig->name_len = (size_t)(space - line);
	sig->b64 = space + 1;
	sig->b64_len = len - sig->name_len - 1;
	if (!tl_key_name_valid(sig->name, sig->name_len))
		return tl_error_set(TL_E_INPUT, "signature line has an invalid key name");
	if ((err = check_sig_b64(&sig->key_id, sig->b64, sig->b64_len)) != 0)
		return tl_error_wrap(err, "signature by %.*s", (int)(sig->name_len < 64 ? sig->name_len : 64), sig->name);
	return 0;
}

/* Parses "line\n"* (the whole of bytes) into n->sigs after its existing lines. */
static int parse_sig_block(tl_note *n, const uint8_t *p, size_t len)
{
	size_t count = n->n_sigs, line_no = 0;
	int err;

	if (len == 0)
		return tl_error_set(TL_E_INPUT, "note has no signature lines");
	if (p[len - 1] != '\n')
		return tl_error_set(TL_E_INPUT, "note does not end with a newline");
	while (len > 0) {
		const uint8_t *nl = memchr(p, '\n', len);
		size_t line_len = (size_t)(nl - p);

		line_no++;
		if (count == TL_NOTE_MAX_SIGS)
			return tl_error_set(TL_E_INPUT, "note has more than %d signature lines", TL_NOTE_MAX_SIGS);
		if ((err = parse_sig_line(&n->sigs[count], (const char *)p, line_len)) != 0)
			return tl_error_wrap(err, "signature line %zu", line_no);
		count++;
		p += line_len + 1;
		len -= line_len + 1;
	}
	n->n_sigs = count;
	return 0;
}

int tl_note_parse(tl_note *out, const void *msg, size_t len)
{
	const uint8_t *p = msg;
	size_t split;
	int err;

	out->text = NULL;
	out->text_len = 0;
	out->n_sigs = 0;
	if (len > TL_NOTE_MAX_SIZE)
		return tl_error_set(TL_E_INPUT, "note is %zu bytes, larger than %u", len, TL_NOTE_MAX_SIZE);
	if ((err = tl_note_check_text(p, len, 1)) != 0)
		return tl_error_wrap(err, "note");
	/* The text ends at the last blank line: find the last "\n\n". */
	for (split = len; split >= 2; split--)
		if (p[split - 2] == '\n' && p[split - 1] == '\n')
			break;
	if (split < 2)
		return tl_error_set(TL_E_INPUT, "note has no blank line before its signatures");
	out->text = p;
	out->text_len = split - 1;
	if ((err = parse_sig_block(out, p + split, len - split)) != 0) {
		out->text = NULL;
		out->text_len = 0;
		out->n_sigs = 0;
		return tl_error_wrap(err, "note");
	}
	return 0;
}

int tl_note_add_sig_lines(tl_note *n, const void *lines, size_t len)
{
	size_t before = n->n_sigs;
	int err;

	if (len > TL_NOTE_MAX_SIZE)
		return tl_error_set(TL_E_INPUT, "signature lines are %zu bytes, larger than %u", len, TL_NOTE_MAX_SIZE);
	if ((err = tl_note_check_text(lines, len, 1)) != 0)
		return tl_error_wrap(err, "signature lines");
	if ((err = parse_sig_block(n, lines, len)) != 0) {
		n->n_sigs = before;
		return err;
	}
	return 0;
}

int tl_note_sig_bytes(uint8_t *out, size_t cap, size_t *len, const tl_note_sig *s)
{
	uint8_t small[MAX_KNOWN_SIG];
	size_t got = 0;

	/* Only signatures of known keys are decoded whole, and those are small. */
	if (tl_base64_decode(small, sizeof(small), &got, s->b64, s->b64_len) != 0)
		return tl_error_set(TL_E_INPUT, "signature is longer than %d bytes", MAX_KNOWN_SIG);
	if (got < 4 || got - 4 > cap)
		return tl_error_set(TL_E_INPUT, "signature is %zu bytes, does not fit %zu", got >= 4 ? got - 4 : 0, cap);
	memcpy(out, small + 4, got - 4);
	*len = got - 4;
	return 0;
}

static int sig_is_by(const tl_note_sig *s, const char *name, size_t name_len, uint32_t key_id)
{
	return s->key_id == key_id && s->name_len == name_len && memcmp(s->name, name, name_len) == 0;
}

int tl_note_find_sig(const tl_note *n, const char *name, uint32_t key_id)
{
	size_t name_len = strlen(name);

	for (size_t i = 0; i < n->n_sigs; i++)
		if (sig_is_by(&n->sigs[i], name, name_len, key_id))
			return (int)i;
	return -1;
}

static int verify_one(const tl_note *n, const tl_note_sig *s, const tl_verifier *v)
{
	uint8_t raw[MAX_KNOWN_SIG];
	size_t raw_len = 0;
	int err;

	if (tl_note_sig_bytes(raw, sizeof(raw), &raw_len, s) != 0)
		return tl_error_set(TL_E_UNAUTHORIZED, "signature by %s+%08x has the wrong length", tl_verifier_name(v),
			(unsigned)tl_verifier_key_id(v));
	if (tl_verifier_type(v) == TL_KEY_TYPE_COSIGNATURE) {
		if (raw_len != 8 + TL_ED25519_SIGNATURE_SIZE)
			return tl_error_set(TL_E_UNAUTHORIZED, "cosignature by %s+%08x is %zu bytes, want 72",
				tl_verifier_name(v), (unsigned)tl_verifier_key_id(v), raw_len);
		return tl_cosig_verify_raw(v, n->text, n->text_len, tl_load_u64be(raw), raw + 8,
			TL_ED25519_SIGNATURE_SIZE);
	}
	err = tl_verifier_verify(v, n->text, n->text_len, raw, raw_len);
	return err;
}

int tl_note_verify(const tl_note *n, const tl_verifier *const *known, size_t n_known, int *verified)
{
	size_t good = 0;
	int err;

	if (verified)
		for (size_t k = 0; k < n_known; k++)
			verified[k] = 0;
	if ((err = tl_verifier_check_distinct(known, n_known)) != 0)
		return tl_error_wrap(err, "ambiguous known keys");
	for (size_t i = 0; i < n->n_sigs; i++) {
		const tl_note_sig *s = &n->sigs[i];

		for (size_t k = 0; k < n_known; k++) {
			const tl_verifier *v = known[k];

			if (v == NULL || !sig_is_by(s, tl_verifier_name(v), strlen(tl_verifier_name(v)), tl_verifier_key_id(v)))
				continue;
			if ((err = verify_one(n, s, v)) != 0)
				return err == TL_E_UNAUTHORIZED ? err : tl_error_wrap(err, "verifying signature line %zu", i + 1);
			if (verified)
				verified[k] = 1;
			good++;
			break;
		}
	}
	if (good == 0)
		return tl_error_set(TL_E_UNAUTHORIZED, "note has no signature by a known key");
	return 0;
}

int tl_note_open(tl_note *out, const void *msg, size_t len, const tl_verifier *const *known, size_t n_known)
{
	int err = tl_note_parse(out, msg, len);

	if (err)
		return err;
	return tl_note_verify(out, known, n_known, NULL);
}

int tl_note_write_sig_line(tl_buf *out, const char *name, size_t name_len, uint32_t key_id, const uint8_t *sig,
	size_t sig_len)
{
	tl_buf raw = tl_buf_make(TL_NOTE_MAX_SIZE);
	size_t start = out->len;
	int err;

	if (!tl_key_name_valid(name, name_len))
		return tl_error_set(TL_E_INPUT, "cannot write a signature line: invalid key name");
	if (sig_len == 0)
		return tl_error_set(TL_E_INPUT, "cannot write a signature line: empty signature");
	if ((err = tl_buf_append_u32be(&raw, key_id)) != 0 || (err = tl_buf_append(&raw, sig, sig_len)) != 0)
		goto out;
	if ((err = tl_buf_append(out, sig_prefix, SIG_PREFIX_LEN)) != 0 ||
	    (err = tl_buf_append(out, name, name_len)) != 0 ||
	    (err = tl_buf_append_u8(out, ' ')) != 0 ||
	    (err = tl_base64_encode(out, raw.data, raw.len)) != 0 ||
	    (err = tl_buf_append_u8(out, '\n')) != 0)
		goto out;
out:
	if (err)
		tl_buf_truncate(out, start);
	tl_buf_free(&raw);
	return err;
}

static int write_existing_line(tl_buf *out, const tl_note_sig *s)
{
	int err;

	if ((err = tl_buf_append(out, sig_prefix, SIG_PREFIX_LEN)) != 0 ||
	    (err = tl_buf_append(out, s->name, s->name_len)) != 0 ||
	    (err = tl_buf_append_u8(out, ' ')) != 0 ||
	    (err = tl_buf_append(out, s->b64, s->b64_len)) != 0)
		return err;
	return tl_buf_append_u8(out, '\n');
}

/* The shared writer: text, blank line, the kept old lines, then new Ed25519 signatures. */
static int write_note(tl_buf *out, const uint8_t *text, size_t text_len, const tl_note *old,
	const tl_signer *const *signers, size_t n_signers)
{
	size_t start = out->len, n_lines = 0;
	int err;

	if (text_len == 0 || text[text_len - 1] != '\n')
		return tl_error_set(TL_E_INPUT, "note text must end with a newline");
	if (text_len > TL_NOTE_MAX_SIZE)
		return tl_error_set(TL_E_INPUT, "note text is larger than %u bytes", TL_NOTE_MAX_SIZE);
	if ((err = tl_note_check_text(text, text_len, 1)) != 0)
		return tl_error_wrap(err, "note text");
	for (size_t i = 0; i < n_signers; i++) {
		if (tl_signer_type(signers[i]) != TL_KEY_TYPE_ED25519)
			return tl_error_set(TL_E_INPUT, "signer %s has key type 0x%02x: notes are signed with type 0x01 keys"
				" (cosignatures with tl_cosig_sign)", tl_signer_name(signers[i]), tl_signer_type(signers[i]));
	}
	if ((err = tl_buf_append(out, text, text_len)) != 0 || (err = tl_buf_append_u8(out, '\n')) != 0)
		goto out;
	for (size_t i = 0; old && i < old->n_sigs; i++) {
		const tl_note_sig *s = &old->sigs[i];
		int replaced = 0;

		for (size_t k = 0; k < n_signers && !replaced; k++)
			replaced = sig_is_by(s, tl_signer_name(signers[k]), strlen(tl_signer_name(signers[k])),
				tl_signer_key_id(signers[k]));
		if (replaced)
			continue;
		if ((err = write_existing_line(out, s)) != 0)
			goto out;
		n_lines++;
	}
	for (size_t i = 0; i < n_signers; i++) {
		uint8_t sig[TL_ED25519_SIGNATURE_SIZE];
		const char *name = tl_signer_name(signers[i]);

		if ((err = tl_signer_sign(sig, signers[i], text, text_len)) != 0 ||
		    (err = tl_note_write_sig_line(out, name, strlen(name), tl_signer_key_id(signers[i]), sig, sizeof(sig))) != 0)
			goto out;
		n_lines++;
	}
	if (n_lines == 0) {
		err = tl_error_set(TL_E_INPUT, "a note needs at least one signature");
		goto out;
	}
	if (n_lines > TL_NOTE_MAX_SIGS) {
		err = tl_error_set(TL_E_INPUT, "note would have %zu signature lines, more than %d", n_lines, TL_NOTE_MAX_SIGS);
		goto out;
	}
	if (out->len - start > TL_NOTE_MAX_SIZE)
		err = tl_error_set(TL_E_INPUT, "note would be %zu bytes, larger than %u", out->len - start, TL_NOTE_MAX_SIZE);
out:
	if (err)
		tl_buf_truncate(out, start);
	return err;
}

int tl_note_sign(tl_buf *out, const void *text, size_t len, const tl_signer *const *signers, size_t n)
{
	return write_note(out, text, len, NULL, signers, n);
}

int tl_note_add_sigs(tl_buf *out, const tl_note *n, const tl_signer *const *signers, size_t n_signers)
{
	return write_note(out, n->text, n->text_len, n, signers, n_signers);
}

int tl_note_write(tl_buf *out, const tl_note *n)
{
	return write_note(out, n->text, n->text_len, n, NULL, 0);
}

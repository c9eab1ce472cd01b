#include "translog/cosig.h"

#include <string.h>

#include "translog/checkpoint.h"

int tl_cosig_sign(tl_buf *line, const uint8_t *body, size_t len, uint64_t timestamp, const tl_signer *cosigner)
{
	uint8_t raw[8 + TL_ED25519_SIGNATURE_SIZE];
	tl_checkpoint cp;
	tl_buf msg = tl_buf_make(TL_NOTE_MAX_SIZE + 64); /* header and time lines, then a note */
	const char *name = tl_signer_name(cosigner);
	int err;

	if (tl_signer_type(cosigner) != TL_KEY_TYPE_COSIGNATURE)
		return tl_error_set(TL_E_INPUT, "cosigner %s has key type 0x%02x, want 0x04", name, tl_signer_type(cosigner));
	if ((err = tl_checkpoint_parse(&cp, body, len)) != 0)
		return tl_error_wrap(err, "refusing to cosign");
	if ((err = tl_cosig_message(&msg, timestamp, body, len)) != 0)
		goto out;
	tl_store_u64be(raw, timestamp);
	if ((err = tl_signer_sign(raw + 8, cosigner, msg.data, msg.len)) != 0)
		goto out;
	err = tl_note_write_sig_line(line, name, strlen(name), tl_signer_key_id(cosigner), raw, sizeof(raw));
out:
	tl_buf_free(&msg);
	return err;
}

int tl_cosig_add(tl_buf *out, const tl_note *n, uint64_t timestamp, const tl_signer *cosigner)
{
	tl_buf line = tl_buf_make(TL_NOTE_MAX_SIZE);
	tl_note copy;
	size_t start = out->len;
	int err;

	if ((err = tl_cosig_sign(&line, n->text, n->text_len, timestamp, cosigner)) != 0)
		goto out;
	/* Drop older lines by this key, then add the new one: the note writer re-emits. */
	copy.text = n->text;
	copy.text_len = n->text_len;
	copy.n_sigs = 0;
	for (size_t i = 0; i < n->n_sigs; i++) {
		const tl_note_sig *s = &n->sigs[i];

		if (s->key_id == tl_signer_key_id(cosigner) && s->name_len == strlen(tl_signer_name(cosigner)) &&
		    memcmp(s->name, tl_signer_name(cosigner), s->name_len) == 0)
			continue;
		copy.sigs[copy.n_sigs++] = *s;
	}
	if ((err = tl_note_add_sig_lines(&copy, line.data, line.len)) != 0)
		goto out;
	err = tl_note_write(out, &copy);
out:
	if (err)
		tl_buf_truncate(out, start);
	tl_buf_free(&line);
	return err;
}

int tl_cosig_verify(uint64_t *timestamp, const tl_note *n, const tl_verifier *witness)
{
	const char *name = tl_verifier_name(witness);
	size_t name_len = strlen(name);
	uint64_t best = 0;
	int found = 0, err;

	if (tl_verifier_type(witness) != TL_KEY_TYPE_COSIGNATURE)
		return tl_error_set(TL_E_INPUT, "%s+%08x is not a cosignature (type 0x04) key", name,
			(unsigned)tl_verifier_key_id(witness));
	for (size_t i = 0; i < n->n_sigs; i++) {
		const tl_note_sig *s = &n->sigs[i];
		uint8_t raw[8 + TL_ED25519_SIGNATURE_SIZE];
		size_t raw_len = 0;
		uint64_t ts;

		if (s->key_id != tl_verifier_key_id(witness) || s->name_len != name_len || memcmp(s->name, name, name_len) != 0)
			continue;
		if (tl_note_sig_bytes(raw, sizeof(raw), &raw_len, s) != 0 || raw_len != sizeof(raw))
			return tl_error_set(TL_E_UNAUTHORIZED, "cosignature by %s+%08x is not 72 bytes", name,
				(unsigned)tl_verifier_key_id(witness));
		ts = tl_load_u64be(raw);
		if ((err = tl_cosig_verify_raw(witness, n->text, n->text_len, ts, raw + 8, TL_ED25519_SIGNATURE_SIZE)) != 0)
			return err;
		if (!found || ts > best)
			best = ts;
		found = 1;
	}
	if (!found)
		return tl_error_set(TL_E_NOTFOUND, "no cosignature by %s+%08x", name, (unsigned)tl_verifier_key_id(witness));
	if (timestamp)
		*timestamp = best;
	return 0;
}

int tl_cosig_count(size_t *count, const tl_note *n, const tl_verifier *const *witnesses, size_t n_witnesses)
{
	size_t good = 0;

	int err;

	*count = 0;
	/* Count public keys, not names: a cosignature does not bind the witness's name. */
	if ((err = tl_verifier_check_distinct(witnesses, n_witnesses)) != 0)
		return tl_error_wrap(err, "witnesses");
	for (size_t i = 0; i < n_witnesses; i++) {
		if (witnesses[i] == NULL)
			continue;
		err = tl_cosig_verify(NULL, n, witnesses[i]);
		if (err == TL_E_NOTFOUND)
			continue;
		if (err)
			return err;
		good++;
	}
	*count = good;
	return 0;
}

int tl_cosig_check_quorum(size_t *count, const tl_note *n, const tl_verifier *const *witnesses, size_t n_witnesses,
	size_t quorum)
{
	size_t got = 0;
	int err;

	if (count)
		*count = 0;
	if ((err = tl_cosig_count(&got, n, witnesses, n_witnesses)) != 0)
		return err;
	if (count)
		*count = got;
	if (got < quorum)
		return tl_error_set(TL_E_UNAUTHORIZED, "%zu of %zu witnesses cosigned, quorum is %zu", got, n_witnesses, quorum);
	return 0;
}

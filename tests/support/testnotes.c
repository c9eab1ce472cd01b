#include "testnotes.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

uint8_t *tu_notes_vector(const char *name, size_t *len)
{
	char rel[256];
	uint8_t *data;

	snprintf(rel, sizeof(rel), "tests/vectors/notes/%s", name);
	data = tu_read_file(tu_source_path(rel), len);
	ck_assert_msg(data != NULL, "missing vector %s", rel);
	return data;
}

tl_signer *tu_notes_signer(const char *name)
{
	size_t len;
	uint8_t *text = tu_notes_vector(name, &len);
	tl_signer *s = NULL;

	ck_assert_int_eq(tl_signer_parse(&s, (char *)text, len), 0);
	free(text);
	return s;
}

tl_verifier *tu_notes_verifier(const char *name)
{
	size_t len;
	uint8_t *text = tu_notes_vector(name, &len);
	tl_verifier *v = NULL;

	ck_assert_int_eq(tl_verifier_parse(&v, (char *)text, len), 0);
	free(text);
	return v;
}

tl_verifier *tu_notes_alias(const tl_verifier *v, const char *name)
{
	tl_verifier *alias = NULL;

	ck_assert_int_eq(tl_verifier_make(&alias, name, tl_verifier_type(v), tl_verifier_public_key(v)), 0);
	return alias;
}

void tu_notes_relabel(tl_buf *out, const tl_note *n, size_t i, const tl_verifier *alias)
{
	tl_note copy = *n;
	tl_buf line = tl_buf_make(8192);
	uint8_t raw[4096];
	size_t raw_len = 0;
	const char *name = tl_verifier_name(alias);

	ck_assert_uint_lt(i, n->n_sigs);
	ck_assert_int_eq(tl_note_sig_bytes(raw, sizeof(raw), &raw_len, &n->sigs[i]), 0);
	ck_assert_int_eq(tl_note_write_sig_line(&line, name, strlen(name), tl_verifier_key_id(alias), raw, raw_len), 0);
	ck_assert_int_eq(tl_note_add_sig_lines(&copy, line.data, line.len), 0);
	ck_assert_int_eq(tl_note_write(out, &copy), 0);
	tl_buf_free(&line);
}

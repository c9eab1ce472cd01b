#include "testnotes.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

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

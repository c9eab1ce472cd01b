#include "testbundle.h"

#include <check.h>
#include <stdio.h>

#include "bundled/chunker.h"
#include "testutil.h"
#include "translog/bytes.h"
#include "translog/error.h"

uint8_t *tu_bundle_vector(const char *name, size_t *len)
{
	char rel[256];
	size_t ignored;
	uint8_t *data;

	snprintf(rel, sizeof(rel), "tests/vectors/bundle/%s", name);
	data = tu_read_file(tu_source_path(rel), len != NULL ? len : &ignored);
	ck_assert_msg(data != NULL, "cannot read %s", rel);
	return data;
}

char *tu_bundle_canonical(const bd_bundle *b)
{
	tl_buf out = tl_buf_make(BD_MAX_BUNDLE_SIZE);

	ck_assert_msg(bd_bundle_write_canonical(&out, b) == 0, "%s", tl_error_message());
	return (char *)tl_buf_detach(&out, NULL);
}

void tu_assert_cid_text(const bd_cid *cid, const char *want)
{
	char text[BD_CID_TEXT_MAX];

	ck_assert_int_eq(bd_cid_format(text, sizeof(text), cid), 0);
	ck_assert_str_eq(text, want);
}

bd_dag *tu_dag_build(const void *data, size_t len, const char *spec)
{
	bd_chunker c;
	bd_dag *dag = NULL;

	ck_assert_int_eq(bd_chunker_parse(&c, spec), 0);
	ck_assert_msg(bd_dag_build(&dag, data, len, &c) == 0, "%s", tl_error_message());
	return dag;
}

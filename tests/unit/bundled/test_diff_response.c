/* Diff responses (bundled/diff_response.h): what the writer writes, the reader reads back
 * field for field and byte for byte; every truncation, a byte after the end, and each rule
 * of the framing broken is refused, and the writer refuses what the reader would. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "bundled/diff_response.h"

static const char entry[] = "bundled-entry v1\nkind bundle\ndomain example.org\n";
static const char note[] = "example.org/log\n5\nroot\n\n\xe2\x80\x94 example.org/log sig\n";
static const uint8_t patch[] = "BDIF patch bytes";

static bd_diff_response *sample(bd_diff_status status)
{
	bd_diff_response *r = calloc(1, sizeof(*r));

	ck_assert_ptr_nonnull(r);
	r->status = status;
	r->from = 6;
	r->to = 7;
	r->index = 4;
	r->size = 5;
	r->old_size = 3;
	r->entry = (const uint8_t *)entry;
	r->entry_len = strlen(entry);
	r->checkpoint = (const uint8_t *)note;
	r->checkpoint_len = strlen(note);
	r->n_inclusion = 3;
	r->n_consistency = 2;
	for (size_t i = 0; i < 3; i++)
		memset(r->inclusion[i].b, (int)(0x10 + i), TL_HASH_SIZE);
	for (size_t i = 0; i < 2; i++)
		memset(r->consistency[i].b, (int)(0x20 + i), TL_HASH_SIZE);
	if (status == BD_DIFF_STATUS_PATCH) {
		r->patch = patch;
		r->patch_len = sizeof(patch);
	}
	return r;
}

START_TEST(round_trips_in_every_status)
{
	for (unsigned s = 0; s <= BD_DIFF_STATUS_LAST; s++) {
		bd_diff_response *r = sample((bd_diff_status)s), *back = malloc(sizeof(*back));
		tl_buf out = tl_buf_make(1u << 20), again = tl_buf_make(1u << 20);

		ck_assert_int_eq(bd_diff_response_write(&out, r), 0);
		ck_assert_int_eq(bd_diff_response_read(back, out.data, out.len), 0);
		ck_assert_int_eq(back->status, r->status);
		ck_assert_uint_eq(back->from, 6);
		ck_assert_uint_eq(back->to, 7);
		ck_assert_uint_eq(back->index, 4);
		ck_assert_uint_eq(back->size, 5);
		ck_assert_uint_eq(back->old_size, 3);
		ck_assert_mem_eq(back->entry, entry, strlen(entry));
		ck_assert_mem_eq(back->checkpoint, note, strlen(note));
		ck_assert_uint_eq(back->n_inclusion, 3);
		ck_assert_uint_eq(back->n_consistency, 2);
		ck_assert(tl_hash_equal(&back->inclusion[2], &r->inclusion[2]));
		ck_assert(tl_hash_equal(&back->consistency[1], &r->consistency[1]));
		ck_assert_uint_eq(back->patch_len, r->patch_len);
		ck_assert_int_eq(bd_diff_response_write(&again, back), 0);
		ck_assert_uint_eq(again.len, out.len);
		ck_assert_mem_eq(again.data, out.data, out.len);
		/* Every prefix is refused, and so is a byte more. */
		for (size_t n = 0; n < out.len; n++)
			ck_assert_int_eq(bd_diff_response_read(back, out.data, n), TL_E_INPUT);
		ck_assert_int_eq(tl_buf_append_u8(&out, 0), 0);
		ck_assert_int_eq(bd_diff_response_read(back, out.data, out.len), TL_E_INPUT);
		tl_buf_free(&out);
		tl_buf_free(&again);
		free(back);
		free(r);
	}
}
END_TEST

/* One byte of a written response changed: refused. */
static void refused_with(size_t offset, uint8_t value, const char *what)
{
	bd_diff_response *r = sample(BD_DIFF_STATUS_PATCH), *back = malloc(sizeof(*back));
	tl_buf out = tl_buf_make(1u << 20);

	ck_assert_int_eq(bd_diff_response_write(&out, r), 0);
	out.data[offset] = value;
	ck_assert_msg(bd_diff_response_read(back, out.data, out.len) == TL_E_INPUT, "%s accepted", what);
	tl_buf_free(&out);
	free(back);
	free(r);
}

START_TEST(refuses_each_broken_rule)
{
	refused_with(0, 'X', "magic");
	refused_with(4, 2, "version");
	refused_with(5, 4, "status");
	refused_with(5, BD_DIFF_STATUS_CURRENT, "a patch with status current");
	refused_with(7, 1, "reserved");
	refused_with(24 + 7, 9, "index beyond the tree"); /* index 9 >= size 5 */
	refused_with(40 + 7, 6, "old size beyond the tree");
	refused_with(48, 0xff, "entry length");
}
END_TEST

START_TEST(writer_refuses_what_the_reader_would)
{
	bd_diff_response *r = sample(BD_DIFF_STATUS_PATCH);
	tl_buf out = tl_buf_make(1u << 20);

	r->status = BD_DIFF_STATUS_UNKNOWN; /* with a patch */
	ck_assert_int_eq(bd_diff_response_write(&out, r), TL_E_INPUT);
	r->status = BD_DIFF_STATUS_PATCH;
	r->patch_len = 0;
	ck_assert_int_eq(bd_diff_response_write(&out, r), TL_E_INPUT);
	r->patch_len = sizeof(patch);
	r->entry_len = BD_ENTRY_MAX_SIZE + 1;
	ck_assert_int_eq(bd_diff_response_write(&out, r), TL_E_INPUT);
	r->entry_len = strlen(entry);
	r->n_inclusion = TL_MAX_PROOF_HASHES + 1;
	ck_assert_int_eq(bd_diff_response_write(&out, r), TL_E_INPUT);
	ck_assert_uint_eq(out.len, 0);
	ck_assert_str_eq(bd_diff_status_name(BD_DIFF_STATUS_TOO_OLD), "base_too_old");
	tl_buf_free(&out);
	free(r);
}
END_TEST

Suite *suite_diff_response(void)
{
	Suite *s = suite_create("diff_response");
	TCase *tc = tcase_create("framing");

	tcase_add_test(tc, round_trips_in_every_status);
	tcase_add_test(tc, refuses_each_broken_rule);
	tcase_add_test(tc, writer_refuses_what_the_reader_would);
	suite_add_tcase(s, tc);
	return s;
}

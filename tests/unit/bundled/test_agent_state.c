/*
 * The agent's state file (agent_state.c): a v1 file, written before the cosigned time was
 * kept, still loads (with that time unknown, 0), and a v2 file keeps the cosigned time.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../bundled/src/agent_internal.h"
#include "testutil.h"

static const char *const domains[] = { "a.test" };

START_TEST(v1_loads_and_v2_keeps_cosigned_time)
{
	static const char v1[] = "bundled-agent-state v1\nlog-key \ncheckpoint eAo= 1700000000\nscanned 0 a.test\n";
	struct agent_state st;
	char *dir = tu_mkdtemp(), path[4200];

	snprintf(path, sizeof(path), "%s/" AGENT_STATE_FILE, dir);
	ck_assert_int_eq(tu_write_file(path, v1, strlen(v1)), 0);
	ck_assert_msg(agent_state_load(&st, dir, domains, 1) == 0, "%s", tl_error_message());
	ck_assert(st.has_checkpoint);
	ck_assert_uint_eq(st.verified_at, 1700000000);
	ck_assert_uint_eq(st.cosigned_at, 0);
	st.cosigned_at = 1700000123;
	ck_assert_int_eq(agent_state_save(&st, dir), 0);
	agent_state_free(&st);
	ck_assert_msg(agent_state_load(&st, dir, domains, 1) == 0, "%s", tl_error_message());
	ck_assert_uint_eq(st.verified_at, 1700000000);
	ck_assert_uint_eq(st.cosigned_at, 1700000123);
	agent_state_free(&st);
	ck_assert_int_eq(tu_write_file(path, "bundled-agent-state v3\n", 23), 0);
	ck_assert_int_eq(agent_state_load(&st, dir, domains, 1), TL_E_INPUT);
	agent_state_free(&st);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

Suite *suite_agent_state(void)
{
	Suite *s = suite_create("agent_state");
	TCase *tc = tcase_create("format");

	tcase_add_test(tc, v1_loads_and_v2_keeps_cosigned_time);
	suite_add_tcase(s, tc);
	return s;
}

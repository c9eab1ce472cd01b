/*
 * The daemon's version cache (bundled/daemon/version_cache.c): a version by sequence is
 * found as kept; a domain's newest only while the registry's applied index is the one it was
 * kept under, and never replaced by an older version or an older lookup; memory stays within
 * its slots however many versions and domains pass through it.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "version_cache.h"

static struct watch_event version(const char *td, uint64_t sequence, uint64_t index)
{
	struct watch_event v;

	memset(&v, 0, sizeof(v));
	snprintf(v.domain, sizeof(v.domain), "%s", td);
	v.sequence = sequence;
	v.index = index;
	snprintf(v.cid, sizeof(v.cid), "bafk-%s-%llu", td, (unsigned long long)sequence);
	snprintf(v.sha256, sizeof(v.sha256), "%064llx", (unsigned long long)(sequence * 1000 + index));
	return v;
}

START_TEST(keeps_versions_by_sequence)
{
	struct version_cache *c;
	struct watch_event v = version("a.test", 3, 10), got;

	ck_assert_int_eq(version_cache_new(&c), 0);
	ck_assert(!version_cache_get(&got, c, "a.test", 3));
	version_cache_put(c, &v, false, 11);
	ck_assert(version_cache_get(&got, c, "a.test", 3));
	ck_assert_str_eq(got.cid, v.cid);
	ck_assert_uint_eq(got.index, 10);
	ck_assert(!version_cache_get(&got, c, "a.test", 4));
	ck_assert(!version_cache_get(&got, c, "b.test", 3));
	/* Put as a version by sequence only, it is no domain's newest. */
	ck_assert(!version_cache_newest(&got, c, "a.test", 11));
	version_cache_free(c);
}
END_TEST

START_TEST(a_newest_is_valid_only_at_its_applied_index)
{
	struct version_cache *c;
	struct watch_event v1 = version("a.test", 1, 4), v2 = version("a.test", 2, 9), got;

	ck_assert_int_eq(version_cache_new(&c), 0);
	version_cache_put(c, &v1, true, 5);
	ck_assert(version_cache_newest(&got, c, "a.test", 5));
	ck_assert_uint_eq(got.sequence, 1);
	/* Any commit since (of this domain or another) and the reader must look again. */
	ck_assert(!version_cache_newest(&got, c, "a.test", 6));
	/* The commit's fan-out: v2 from its own index on. */
	version_cache_put(c, &v2, true, 10);
	ck_assert(version_cache_newest(&got, c, "a.test", 10));
	ck_assert_uint_eq(got.sequence, 2);
	/* A reader that looked before the commit comes back late with v1: not kept as newest. */
	version_cache_put(c, &v1, true, 5);
	ck_assert(version_cache_newest(&got, c, "a.test", 10));
	ck_assert_uint_eq(got.sequence, 2);
	ck_assert(!version_cache_newest(&got, c, "a.test", 5));
	/* A late fan-out of an older version under a newer index does not replace v2 either. */
	version_cache_put(c, &v1, true, 12);
	ck_assert(!version_cache_newest(&got, c, "a.test", 12));
	ck_assert(version_cache_newest(&got, c, "a.test", 10));
	ck_assert_uint_eq(got.sequence, 2);
	/* Both stay versions by sequence. */
	ck_assert(version_cache_get(&got, c, "a.test", 1));
	ck_assert(version_cache_get(&got, c, "a.test", 2));
	version_cache_free(c);
}
END_TEST

START_TEST(memory_stays_within_its_slots)
{
	struct version_cache *c;
	struct watch_event v, got;
	char td[64];
	uint64_t n_versions, n_newest, found = 0;

	ck_assert_int_eq(version_cache_new(&c), 0);
	for (uint64_t i = 0; i < 8 * VERSION_CACHE_SLOTS; i++) {
		snprintf(td, sizeof(td), "%llu.many.test", (unsigned long long)(i % 3000));
		v = version(td, i / 3000 + 1, i);
		version_cache_put(c, &v, true, i + 1);
	}
	version_cache_count(&n_versions, &n_newest, c);
	ck_assert_uint_le(n_versions, VERSION_CACHE_SLOTS);
	ck_assert_uint_le(n_newest, VERSION_CACHE_NEWEST_SLOTS);
	/* Most slots are in use (direct-mapped: some keys share a slot). */
	ck_assert_uint_ge(n_versions, VERSION_CACHE_SLOTS / 2);
	ck_assert_uint_ge(n_newest, VERSION_CACHE_NEWEST_SLOTS / 2);
	/* What the cache gives is what was put under that key, never another key's. */
	for (uint64_t i = 0; i < 8 * VERSION_CACHE_SLOTS; i++) {
		snprintf(td, sizeof(td), "%llu.many.test", (unsigned long long)(i % 3000));
		if (!version_cache_get(&got, c, td, i / 3000 + 1))
			continue;
		found++;
		ck_assert_str_eq(got.domain, td);
		ck_assert_uint_eq(got.index, i);
	}
	ck_assert_uint_eq(found, n_versions);
	version_cache_free(c);
}
END_TEST

Suite *suite_version_cache(void)
{
	Suite *s = suite_create("version_cache");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, keeps_versions_by_sequence);
	tcase_add_test(tc, a_newest_is_valid_only_at_its_applied_index);
	tcase_add_test(tc, memory_stays_within_its_slots);
	suite_add_tcase(s, tc);
	return s;
}

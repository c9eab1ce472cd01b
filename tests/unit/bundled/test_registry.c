/*
 * The domain registry over a real log in a temporary data directory: applying entries,
 * reading states, versions and the list, catching up after a crash-like gap, rebuilding,
 * and refusing applies that are out of order or not valid steps.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testentry.h"

static const uint8_t CANON1[] = "{\"keys\":[\n]}\n";
static const uint8_t CANON2[] = "{\"keys\":[\n],\"spiffe_sequence\":2}\n";

struct keys {
	tl_signer *a, *b, *c;
};

static void keys_init(struct keys *k)
{
	k->a = tu_signer(1, "a");
	k->b = tu_signer(2, "b");
	k->c = tu_signer(3, "c");
}

static void keys_free(struct keys *k)
{
	tl_signer_free(k->a);
	tl_signer_free(k->b);
	tl_signer_free(k->c);
}

/* Appends e to the log and applies it to the registry, as the publisher does. */
static uint64_t log_and_apply(struct tu_store *s, bd_entry *e)
{
	uint64_t index = tu_store_append(s, e);

	ck_assert_msg(bd_registry_apply(s->registry, index, e, 1) == 0, "%s", tl_error_message());
	free(e);
	return index;
}

/* A history over two domains: registrations, key changes and versions. */
static void make_history(struct tu_store *s, const struct keys *k, bool apply)
{
	tl_signer *ab[] = { k->a, k->b };
	tl_signer *c[] = { k->c };
	bd_entry *es[] = {
		tu_register("example.org", ab, 2, 100),
		tu_register("other.example", c, 1, 100),
		tu_bundle_entry("example.org", 1, 300, CANON1, sizeof(CANON1) - 1, 101, k->a),
		tu_key_change("example.org", BD_DOMAIN_ADD_KEY, k->c, k->b, 102),
		tu_bundle_entry("other.example", 5, 0, CANON1, sizeof(CANON1) - 1, 103, k->c),
		tu_key_change("example.org", BD_DOMAIN_REMOVE_KEY, k->a, k->c, 104),
		tu_bundle_entry("example.org", 2, 300, CANON2, sizeof(CANON2) - 1, 105, k->b),
	};

	for (size_t i = 0; i < sizeof(es) / sizeof(es[0]); i++) {
		if (apply) {
			log_and_apply(s, es[i]);
		} else {
			tu_store_append(s, es[i]);
			free(es[i]);
		}
	}
}

static bool holds(const bd_domain_state *d, const tl_signer *key)
{
	char v[BD_MAX_VKEY + 1];

	tu_vkey(v, key);
	for (size_t i = 0; i < d->n_keys; i++)
		if (strcmp(d->keys[i], v) == 0)
			return true;
	return false;
}

static void check_history(struct tu_store *s, const struct keys *k)
{
	bd_domain_state d;
	uint64_t index = 0;

	ck_assert_uint_eq(bd_registry_applied(s->registry), 7);
	ck_assert_msg(bd_registry_get(&d, s->registry, "example.org") == 0, "%s", tl_error_message());
	ck_assert_str_eq(d.domain, "example.org");
	ck_assert_uint_eq(d.n_keys, 2);
	ck_assert(!holds(&d, k->a) && holds(&d, k->b) && holds(&d, k->c));
	ck_assert(memcmp(d.key_fps[0].b, d.key_fps[1].b, TL_HASH_SIZE) < 0);
	ck_assert_uint_eq(d.registered_index, 0);
	ck_assert(d.has_version);
	ck_assert_uint_eq(d.sequence, 2);
	ck_assert_uint_eq(d.version_index, 6);
	ck_assert_uint_eq(d.newest_index, 6);
	ck_assert_uint_eq(d.versions, 2);
	ck_assert_uint_eq(d.keys_time, 104);
	ck_assert_int_eq(bd_registry_version(&index, s->registry, "example.org", 1), 0);
	ck_assert_uint_eq(index, 2);
	ck_assert_int_eq(bd_registry_version(&index, s->registry, "example.org", 2), 0);
	ck_assert_uint_eq(index, 6);
	ck_assert_int_eq(bd_registry_version(&index, s->registry, "example.org", 3), TL_E_NOTFOUND);
	ck_assert_int_eq(bd_registry_version(&index, s->registry, "other.example", 1), TL_E_NOTFOUND);
	ck_assert_int_eq(bd_registry_version(&index, s->registry, "other.example", 5), 0);
	ck_assert_uint_eq(index, 4);
	ck_assert_int_eq(bd_registry_get(&d, s->registry, "other.example"), 0);
	ck_assert_uint_eq(d.n_keys, 1);
	ck_assert_uint_eq(d.sequence, 5);
	ck_assert_uint_eq(d.newest_index, 4);
	ck_assert_int_eq(bd_registry_get(&d, s->registry, "missing.example"), TL_E_NOTFOUND);
	ck_assert_int_eq(bd_registry_get(&d, s->registry, "Bad/Name"), TL_E_INPUT);
}

START_TEST(apply_get_version)
{
	struct tu_store s;
	struct keys k;

	keys_init(&k);
	tu_store_init(&s);
	make_history(&s, &k, true);
	check_history(&s, &k);
	tu_store_free(&s);
	keys_free(&k);
}
END_TEST

struct names {
	size_t n;
	char names[8][BD_MAX_DOMAIN + 1];
};

static int collect(void *ctx, const bd_domain_state *d)
{
	struct names *n = ctx;

	ck_assert_uint_lt(n->n, 8);
	memcpy(n->names[n->n++], d->domain, sizeof(d->domain));
	return strcmp(d->domain, "stop.example") == 0 ? 42 : 0;
}

START_TEST(list_in_name_order)
{
	struct tu_store s;
	struct keys k;
	struct names n = { 0 };
	tl_signer *a[] = { NULL };
	static const char *const domains[] = { "zeta.example", "alpha.example", "mid.example", "stop.example" };

	keys_init(&k);
	a[0] = k.a;
	tu_store_init(&s);
	ck_assert_int_eq(bd_registry_list(s.registry, collect, &n), 0);
	ck_assert_uint_eq(n.n, 0);
	for (size_t i = 0; i < 3; i++)
		log_and_apply(&s, tu_register(domains[i], a, 1, 1));
	/* a version key ("V...") sorts after the domain keys and must not be listed */
	log_and_apply(&s, tu_bundle_entry("mid.example", 1, 0, CANON1, sizeof(CANON1) - 1, 2, k.a));
	ck_assert_int_eq(bd_registry_list(s.registry, collect, &n), 0);
	ck_assert_uint_eq(n.n, 3);
	ck_assert_str_eq(n.names[0], "alpha.example");
	ck_assert_str_eq(n.names[1], "mid.example");
	ck_assert_str_eq(n.names[2], "zeta.example");
	log_and_apply(&s, tu_register(domains[3], a, 1, 1));
	n.n = 0;
	ck_assert_int_eq(bd_registry_list(s.registry, collect, &n), 42);
	ck_assert_uint_eq(n.n, 3); /* alpha, mid, stop: stopped early */
	tu_store_free(&s);
	keys_free(&k);
}
END_TEST

START_TEST(catches_up_on_open)
{
	struct tu_store s;
	struct keys k;
	tl_hash incremental, caught_up;

	keys_init(&k);
	tu_store_init(&s);
	make_history(&s, &k, true);
	ck_assert_int_eq(bd_registry_digest(&incremental, s.registry), 0);
	tu_store_free(&s);

	/* the same history, logged but never applied: as after a crash between the log's commit
	 * and the registry's write */
	tu_store_init(&s);
	make_history(&s, &k, false);
	ck_assert_uint_eq(bd_registry_applied(s.registry), 0);
	tu_store_close(&s);
	tu_store_open(&s);
	check_history(&s, &k);
	ck_assert_int_eq(bd_registry_digest(&caught_up, s.registry), 0);
	ck_assert(tl_hash_equal(&incremental, &caught_up));
	/* sync is idempotent */
	ck_assert_int_eq(bd_registry_sync(s.registry, s.log, 7), 0);
	ck_assert_int_eq(bd_registry_sync(s.registry, s.log, 3), 0);
	ck_assert_uint_eq(bd_registry_applied(s.registry), 7);
	tu_store_free(&s);
	keys_free(&k);
}
END_TEST

START_TEST(rebuild_equals_incremental)
{
	struct tu_store s;
	struct keys k;
	tl_hash before, after, empty;

	keys_init(&k);
	tu_store_init(&s);
	ck_assert_int_eq(bd_registry_digest(&empty, s.registry), 0);
	make_history(&s, &k, true);
	ck_assert_int_eq(bd_registry_digest(&before, s.registry), 0);
	ck_assert(!tl_hash_equal(&before, &empty));
	ck_assert_msg(bd_registry_rebuild(s.registry, s.log) == 0, "%s", tl_error_message());
	ck_assert_int_eq(bd_registry_digest(&after, s.registry), 0);
	ck_assert(tl_hash_equal(&before, &after));
	check_history(&s, &k);
	/* and after a restart */
	tu_store_close(&s);
	tu_store_open(&s);
	ck_assert_int_eq(bd_registry_digest(&after, s.registry), 0);
	ck_assert(tl_hash_equal(&before, &after));
	tu_store_free(&s);
	keys_free(&k);
}
END_TEST

START_TEST(refuses_out_of_order_and_invalid_steps)
{
	struct tu_store s;
	struct keys k;
	tl_hash before, after;
	tl_signer *a[] = { NULL };
	bd_entry *e;
	bd_entry *two;

	keys_init(&k);
	a[0] = k.a;
	tu_store_init(&s);
	log_and_apply(&s, tu_register("example.org", a, 1, 1));
	log_and_apply(&s, tu_bundle_entry("example.org", 3, 0, CANON1, sizeof(CANON1) - 1, 2, k.a));
	ck_assert_int_eq(bd_registry_digest(&before, s.registry), 0);

	e = tu_bundle_entry("example.org", 4, 0, CANON1, sizeof(CANON1) - 1, 3, k.a);
	/* a gap, and an index already applied */
	ck_assert_int_eq(bd_registry_apply(s.registry, 3, e, 1), TL_E_CONFLICT);
	ck_assert_int_eq(bd_registry_apply(s.registry, 1, e, 1), TL_E_CONFLICT);
	free(e);
	/* invalid steps: nothing of the batch is applied, not even its valid first entry */
	two = calloc(2, sizeof(*two));
	e = tu_bundle_entry("example.org", 4, 0, CANON1, sizeof(CANON1) - 1, 3, k.a);
	two[0] = *e;
	free(e);
	e = tu_bundle_entry("example.org", 4, 0, CANON1, sizeof(CANON1) - 1, 4, k.a); /* sequence reused */
	two[1] = *e;
	free(e);
	ck_assert_int_eq(bd_registry_apply(s.registry, 2, two, 2), TL_E_CONFLICT);
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "entry 3"));
	e = tu_register("example.org", a, 1, 5); /* registered twice */
	ck_assert_int_eq(bd_registry_apply(s.registry, 2, e, 1), TL_E_CONFLICT);
	free(e);
	e = tu_bundle_entry("unknown.example", 1, 0, CANON1, sizeof(CANON1) - 1, 3, k.a);
	ck_assert_int_eq(bd_registry_apply(s.registry, 2, e, 1), TL_E_CONFLICT);
	free(e);
	e = tu_key_change("example.org", BD_DOMAIN_REMOVE_KEY, k.a, k.a, 6); /* the last key */
	ck_assert_int_eq(bd_registry_apply(s.registry, 2, e, 1), TL_E_CONFLICT);
	free(e);
	e = tu_key_change("example.org", BD_DOMAIN_REMOVE_KEY, k.b, k.a, 6); /* not held */
	ck_assert_int_eq(bd_registry_apply(s.registry, 2, e, 1), TL_E_CONFLICT);
	free(e);
	e = tu_key_change("example.org", BD_DOMAIN_ADD_KEY, k.a, k.a, 6); /* held already */
	ck_assert_int_eq(bd_registry_apply(s.registry, 2, e, 1), TL_E_CONFLICT);
	free(e);
	ck_assert_uint_eq(bd_registry_applied(s.registry), 2);
	ck_assert_int_eq(bd_registry_digest(&after, s.registry), 0);
	ck_assert(tl_hash_equal(&before, &after));
	/* the valid entry alone goes in */
	ck_assert_int_eq(bd_registry_apply(s.registry, 2, &two[0], 1), 0);
	ck_assert_uint_eq(bd_registry_applied(s.registry), 3);
	free(two);
	tu_store_free(&s);
	keys_free(&k);
}
END_TEST

START_TEST(open_refuses_a_registry_ahead_of_its_log)
{
	struct tu_store s, other;
	struct keys k;
	tl_signer *a[] = { NULL };
	bd_registry *r = NULL;

	keys_init(&k);
	a[0] = k.a;
	tu_store_init(&s);
	log_and_apply(&s, tu_register("example.org", a, 1, 1));
	tu_store_init(&other);
	/* s's registry applied 1 entry; a registry opened over an empty log must refuse it */
	ck_assert_int_eq(bd_registry_open(&r, s.db, other.log), TL_E_CONFLICT);
	ck_assert_ptr_null(r);
	tu_store_free(&other);
	tu_store_free(&s);
	keys_free(&k);
}
END_TEST

Suite *suite_registry(void)
{
	Suite *s = suite_create("registry");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, apply_get_version);
	tcase_add_test(tc, list_in_name_order);
	tcase_add_test(tc, catches_up_on_open);
	tcase_add_test(tc, rebuild_equals_incremental);
	tcase_add_test(tc, refuses_out_of_order_and_invalid_steps);
	tcase_add_test(tc, open_refuses_a_registry_ahead_of_its_log);
	suite_add_tcase(s, tc);
	return s;
}

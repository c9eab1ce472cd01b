/*
 * kill -9 during a storm of concurrent publishes to many domains, 20 times. After each
 * restart: every acknowledged publish is in the log (its entry at its index, and under its
 * sequence) with its bytes (the blocks ride in the same group commit as the entry), the
 * registry equals one rebuilt from the log alone (bundled --rebuild-index), and every
 * checkpoint the daemon ever served is consistent with the new one.
 */
#include <check.h>
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bundled/client.h"
#include "testbundle.h"
#include "testdaemon.h"
#include "testentry.h"
#include "testpublish.h"
#include "testutil.h"
#include "translog/checkpoint.h"
#include "translog/proof.h"

enum { ROUNDS = 20, THREADS = 8, DOMAINS_PER_THREAD = 2, MAX_ACKS = 20000, MAX_CHECKPOINTS = 4096 };

static const char *const daemon_args[] = { "--write-rate", "0", NULL };

struct ack {
	char domain[64];
	uint64_t sequence, index;
	char *entry;
	int round;
};

struct storm {
	struct tu_daemon *d;
	char origin[256];
	tl_signer *keys[THREADS * DOMAINS_PER_THREAD];
	uint64_t next[THREADS * DOMAINS_PER_THREAD];
	uint8_t *bundle;
	size_t bundle_len;
	int round;
	volatile int stop;
	pthread_mutex_t lock;
	struct ack acks[MAX_ACKS];
	size_t n_acks, round_first;
	char *checkpoints[MAX_CHECKPOINTS]; /* every distinct note served */
	size_t n_checkpoints;
};

struct worker {
	struct storm *s;
	int id;
};

static void domain_name(char *out, size_t cap, int k)
{
	snprintf(out, cap, "d%d.crash.test", k);
}

static void keep_checkpoint(struct storm *s, const char *note)
{
	for (size_t i = 0; i < s->n_checkpoints; i++)
		if (strcmp(s->checkpoints[i], note) == 0)
			return;
	if (s->n_checkpoints < MAX_CHECKPOINTS)
		s->checkpoints[s->n_checkpoints++] = strdup(note);
}

static void *publisher(void *arg)
{
	struct worker *w = arg;
	struct storm *s = w->s;
	tl_buf text = tl_buf_make(BD_ENTRY_MAX_SIZE + 1);
	bd_entry *e = calloc(1, sizeof(*e));

	for (unsigned turn = 0; !s->stop; turn++) {
		int k = w->id * DOMAINS_PER_THREAD + (int)(turn % DOMAINS_PER_THREAD);
		char td[64], path[128], *body;
		struct tu_reply r;
		json_t *doc;

		domain_name(td, sizeof(td), k);
		tu_api_bundle_entry(&text, e, s->bundle, s->bundle_len, td, s->next[k], s->origin, s->keys[k], NULL);
		body = tu_bundle_body(&text, s->bundle, s->bundle_len);
		snprintf(path, sizeof(path), "/v1/domains/%s/bundles", td);
		tu_api_json(&r, s->d, "POST", path, body, NULL);
		free(body);
		if (r.status != 201) {
			tu_reply_free(&r);
			break; /* the daemon is gone */
		}
		doc = json_loads(r.body, 0, NULL);
		pthread_mutex_lock(&s->lock);
		if (s->n_acks < MAX_ACKS) {
			struct ack *a = &s->acks[s->n_acks++];

			snprintf(a->domain, sizeof(a->domain), "%s", td);
			a->sequence = s->next[k];
			a->index = (uint64_t)json_integer_value(json_object_get(doc, "index"));
			a->entry = strndup((const char *)text.data, text.len);
			a->round = s->round;
		}
		keep_checkpoint(s, json_string_value(json_object_get(doc, "checkpoint")));
		pthread_mutex_unlock(&s->lock);
		s->next[k]++;
		json_decref(doc);
		tu_reply_free(&r);
	}
	free(e);
	tl_buf_free(&text);
	return NULL;
}

static char *get_ok(const struct tu_daemon *d, const char *path)
{
	char *body;

	ck_assert_msg(tu_http_get(d, path, &body, NULL) == 200, "GET %s: %s", path, body);
	return body;
}

/* Each domain's next sequence as the (restarted) daemon says: a publish whose answer was
 * lost may have been logged. */
static void resync(struct storm *s)
{
	for (int k = 0; k < THREADS * DOMAINS_PER_THREAD; k++) {
		char td[64], path[128], *body;
		json_t *doc;

		domain_name(td, sizeof(td), k);
		snprintf(path, sizeof(path), "/v1/domains/%s", td);
		body = get_ok(s->d, path);
		doc = json_loads(body, 0, NULL);
		s->next[k] = (uint64_t)json_integer_value(json_object_get(doc, "next_sequence"));
		json_decref(doc);
		free(body);
	}
}

static void check_acks(struct storm *s)
{
	for (size_t i = s->round_first; i < s->n_acks; i++) {
		struct ack *a = &s->acks[i];
		char path[256], *body;

		snprintf(path, sizeof(path), "/v1/log/entries/%llu", (unsigned long long)a->index);
		body = get_ok(s->d, path);
		ck_assert_msg(strcmp(body, a->entry) == 0, "round %d: entry %llu lost", a->round,
			(unsigned long long)a->index);
		free(body);
		snprintf(path, sizeof(path), "/v1/domains/%s/bundles/%llu/entry", a->domain,
			(unsigned long long)a->sequence);
		body = get_ok(s->d, path);
		ck_assert_str_eq(body, a->entry);
		free(body);
		/* The version's blocks rode in the same commit: its bytes are there, whole. */
		{
			bd_entry e;
			tl_hash h;

			ck_assert_int_eq(bd_entry_parse(&e, (const uint8_t *)a->entry, strlen(a->entry)), 0);
			snprintf(path, sizeof(path), "/v1/domains/%s/bundles/%llu", a->domain,
				(unsigned long long)a->sequence);
			body = get_ok(s->d, path);
			tl_sha256(&h, body, strlen(body));
			ck_assert_msg(tl_hash_equal(&h, &e.sha256), "round %d: the bytes of %s version %llu are not whole",
				a->round, a->domain, (unsigned long long)a->sequence);
			free(body);
		}
	}
}

/* Every checkpoint served so far against the daemon's newest. */
static void check_consistency(struct storm *s, const tl_verifier *vkey)
{
	bd_client_options o = { .url = s->d->base_url };
	tl_buf note = tl_buf_make(1u << 20);
	tl_hash hashes[TL_MAX_PROOF_HASHES];
	tl_checkpoint now, old;
	bd_client *c;
	size_t n;

	ck_assert_int_eq(bd_client_open(&c, &o), 0);
	ck_assert_int_eq(bd_client_checkpoint(&note, c), 0);
	ck_assert_int_eq(tl_checkpoint_open(&now, note.data, note.len, vkey), 0);
	for (size_t i = 0; i < s->n_checkpoints; i++) {
		ck_assert_int_eq(tl_checkpoint_open(&old, (const uint8_t *)s->checkpoints[i], strlen(s->checkpoints[i]),
					 vkey),
			0);
		ck_assert_uint_le(old.size, now.size);
		ck_assert_int_eq(bd_client_consistency_proof(hashes, &n, c, old.size, now.size), 0);
		ck_assert_msg(tl_verify_consistency(old.size, now.size, hashes, n, &old.root, &now.root) == 0,
			"checkpoint %llu is not consistent with %llu", (unsigned long long)old.size,
			(unsigned long long)now.size);
	}
	keep_checkpoint(s, (const char *)note.data);
	bd_client_close(c);
	tl_buf_free(&note);
}

START_TEST(kill_9_during_a_publish_storm)
{
	static struct storm s;
	char *dir = tu_mkdtemp(), data[4200], *before, *after;
	struct worker workers[THREADS];
	pthread_t threads[THREADS];
	struct tu_daemon d;
	tl_verifier *vkey;

	ck_assert_int_eq(curl_global_init(CURL_GLOBAL_ALL), 0);
	memset(&s, 0, sizeof(s));
	pthread_mutex_init(&s.lock, NULL);
	s.d = &d;
	snprintf(data, sizeof(data), "%s/data", dir);
	ck_assert_int_eq(tu_daemon_start(&d, data, daemon_args), 0);
	ck_assert_int_eq(tl_verifier_parse(&vkey, d.vkey, strlen(d.vkey)), 0);
	tu_log_origin(s.origin, sizeof(s.origin), &d);
	s.bundle = tu_bundle_vector("ca-p256.pem", &s.bundle_len);
	for (int k = 0; k < THREADS * DOMAINS_PER_THREAD; k++) {
		char td[64], vkey_text[BD_MAX_VKEY + 1];
		const char *keys[1] = { vkey_text };

		domain_name(td, sizeof(td), k);
		s.keys[k] = tu_signer((uint8_t)(k + 1), td);
		tu_vkey(vkey_text, s.keys[k]);
		tu_api_register(&d, data, td, keys, 1, 201);
		s.next[k] = 1;
	}

	for (int round = 0; round < ROUNDS; round++) {
		struct timespec storm = { 0, (long)(50 + (round * 37) % 250) * 1000000L };
		int status;

		s.round = round;
		s.stop = 0;
		s.round_first = s.n_acks;
		for (int t = 0; t < THREADS; t++) {
			workers[t] = (struct worker){ &s, t };
			ck_assert_int_eq(pthread_create(&threads[t], NULL, publisher, &workers[t]), 0);
		}
		nanosleep(&storm, NULL);
		kill(d.pid, SIGKILL);
		waitpid(d.pid, &status, 0);
		d.pid = 0;
		s.stop = 1;
		for (int t = 0; t < THREADS; t++)
			pthread_join(threads[t], NULL);

		ck_assert_int_eq(tu_daemon_start(&d, data, daemon_args), 0);
		check_acks(&s);
		check_consistency(&s, vkey);
		before = get_ok(&d, "/v1/domains");
		ck_assert_int_eq(tu_daemon_stop(&d), 0);
		ck_assert_int_eq(tu_system("'%s' --data '%s' --rebuild-index 2>/dev/null", tu_bin_path("bundled"), data), 0);
		ck_assert_int_eq(tu_daemon_start(&d, data, daemon_args), 0);
		after = get_ok(&d, "/v1/domains");
		ck_assert_msg(strcmp(before, after) == 0, "round %d: registry %s, rebuilt %s", round, before, after);
		free(before);
		free(after);
		resync(&s);
	}
	/* The storms published: the test is not vacuous. */
	ck_assert_uint_gt(s.n_acks, ROUNDS);
	ck_assert_int_eq(tu_daemon_stop(&d), 0);
	for (size_t i = 0; i < s.n_acks; i++)
		free(s.acks[i].entry);
	for (size_t i = 0; i < s.n_checkpoints; i++)
		free(s.checkpoints[i]);
	for (int k = 0; k < THREADS * DOMAINS_PER_THREAD; k++)
		tl_signer_free(s.keys[k]);
	free(s.bundle);
	tl_verifier_free(vkey);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

Suite *suite_publish_crash(void)
{
	Suite *s = suite_create("publish_crash");
	TCase *tc = tcase_create("kill");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, kill_9_during_a_publish_storm);
	suite_add_tcase(s, tc);
	return s;
}

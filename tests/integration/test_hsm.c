/*
 * Log keys in a real PKCS#11 token: SoftHSM2, with a fresh token in a temporary directory
 * for every test. A key generated in the token signs a log run through the storage API and
 * the daemon's checkpoints, and a witness key in a token cosigns for `bundlectl witness serve`;
 * the normal verifiers accept them under the key's verifier key;
 * and the private key never leaves the token, which the test asks the module directly.
 *
 * The runner leaves this suite out (and says so) when SoftHSM2 is not installed.
 */
#define _GNU_SOURCE /* dladdr: the path of libc, a library that is not a PKCS#11 module */
#include <check.h>
#include <dlfcn.h>
#include <p11-kit/pkcs11.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bundled/witness_client.h"
#include "testdaemon.h"
#include "testrun.h"
#include "testutil.h"
#include "translog/checkpoint.h"
#include "translog/cosig.h"
#include "translog/key.h"
#include "translog/log.h"
#include "translog/note.h"
#include "translog/pkcs11.h"

#define TOKEN "bundled-test"
#define PIN "1234"
#define LOG_NAME "example.org/hsm-log"
#define URI "pkcs11:token=" TOKEN ";object=log-key"

struct hsm {
	char *dir;
	char pin_file[4096];
};

/* A token of our own: SoftHSM2 reads its token directory from SOFTHSM2_CONF. */
static void hsm_init(struct hsm *h)
{
	char conf[4096], text[4200], tokens[4096];

	memset(h, 0, sizeof(*h));
	ck_assert_ptr_nonnull(h->dir = tu_mkdtemp());
	snprintf(tokens, sizeof(tokens), "%s/tokens", h->dir);
	ck_assert_int_eq(mkdir(tokens, 0700), 0);
	snprintf(conf, sizeof(conf), "%s/softhsm2.conf", h->dir);
	snprintf(text, sizeof(text), "directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n", tokens);
	ck_assert_int_eq(tu_write_file(conf, text, strlen(text)), 0);
	ck_assert_int_eq(setenv("SOFTHSM2_CONF", conf, 1), 0);
	ck_assert_int_eq(tu_system("softhsm2-util --init-token --free --label %s --pin %s --so-pin 5678 >/dev/null", TOKEN,
		PIN), 0);
	snprintf(h->pin_file, sizeof(h->pin_file), "%s/pin", h->dir);
	ck_assert_int_eq(tu_write_file(h->pin_file, PIN "\n", strlen(PIN) + 1), 0);
	ck_assert_int_eq(chmod(h->pin_file, 0600), 0);
	unsetenv("BUNDLED_PKCS11_PIN");
}

static void hsm_free(struct hsm *h)
{
	tu_rm_rf(h->dir);
	free(h->dir);
}

static tl_verifier *verifier_of(const tl_signer *s)
{
	tl_buf vkey = tl_buf_make(TL_MAX_KEY_TEXT);
	tl_verifier *v = NULL;

	ck_assert_int_eq(tl_signer_vkey(&vkey, s), 0);
	ck_assert_int_eq(tl_verifier_parse(&v, (const char *)vkey.data, vkey.len), 0);
	tl_buf_free(&vkey);
	return v;
}

/* Appends n entries and checks the log's checkpoint under v. */
static void append_and_verify(tl_log *log, const tl_verifier *v, unsigned n, uint64_t want_size)
{
	tl_buf note = tl_buf_make(4096);
	tl_checkpoint cp;
	uint64_t index;

	for (unsigned i = 0; i < n; i++) {
		char entry[32];

		snprintf(entry, sizeof(entry), "entry %u", i);
		ck_assert_msg(tl_log_append(&index, log, entry, strlen(entry)) == 0, "%s", tl_error_message());
	}
	ck_assert_int_eq(tl_log_head(NULL, NULL, &note, log), 0);
	ck_assert_msg(tl_checkpoint_open(&cp, note.data, note.len, v) == 0, "%s", tl_error_message());
	ck_assert_str_eq(cp.origin, LOG_NAME);
	ck_assert_uint_eq(cp.size, want_size);
	tl_buf_free(&note);
}

START_TEST(a_token_key_runs_a_log_whose_checkpoints_verify)
{
	struct hsm h;
	tl_signer *key = NULL, *again = NULL;
	tl_verifier *v;
	tl_db *db = NULL;
	tl_log *log = NULL;
	char db_path[4200];

	hsm_init(&h);
	ck_assert_msg(tl_pkcs11_keygen(&key, URI, PIN, LOG_NAME, TL_KEY_TYPE_ED25519) == 0, "%s", tl_error_message());
	ck_assert_str_eq(tl_signer_name(key), LOG_NAME);
	v = verifier_of(key);
	snprintf(db_path, sizeof(db_path), "%s/db", h.dir);
	ck_assert_int_eq(tl_db_open(&db, db_path, tl_log_column_families, TL_LOG_COLUMN_FAMILY_COUNT), 0);
	ck_assert_msg(tl_log_open(&log, db, key, NULL) == 0, "%s", tl_error_message());
	append_and_verify(log, v, 20, 20);
	tl_log_close(log);
	tl_signer_free(key);

	/* Reopened from the token alone: the same key, and the stored log accepts it. */
	ck_assert_msg(tl_pkcs11_signer_open(&again, URI, PIN) == 0, "%s", tl_error_message());
	ck_assert_str_eq(tl_signer_name(again), LOG_NAME);
	ck_assert_uint_eq(tl_signer_key_id(again), tl_verifier_key_id(v));
	ck_assert_mem_eq(tl_signer_public_key(again), tl_verifier_public_key(v), TL_ED25519_PUBLIC_KEY_SIZE);
	ck_assert_msg(tl_log_open(&log, db, again, NULL) == 0, "%s", tl_error_message());
	append_and_verify(log, v, 5, 25);
	tl_log_close(log);
	tl_db_close(db);
	tl_signer_free(again);
	tl_verifier_free(v);
	hsm_free(&h);
}
END_TEST

struct signing_thread {
	const tl_signer *key;
	const tl_verifier *v;
	int failures;
};

static void *sign_many(void *arg)
{
	struct signing_thread *t = arg;
	uint8_t sig[TL_ED25519_SIGNATURE_SIZE];

	for (unsigned i = 0; i < 25; i++) {
		char msg[32];

		snprintf(msg, sizeof(msg), "message %u %p", i, arg);
		if (tl_signer_sign(sig, t->key, msg, strlen(msg)) != 0 || tl_verifier_verify(t->v, msg, strlen(msg), sig,
			sizeof(sig)) != 0)
			t->failures++;
	}
	return NULL;
}

START_TEST(one_token_key_signs_from_many_threads)
{
	struct hsm h;
	tl_signer *key = NULL;
	tl_verifier *v;
	pthread_t th[4];
	struct signing_thread st[4];

	hsm_init(&h);
	ck_assert_msg(tl_pkcs11_keygen(&key, URI, PIN, LOG_NAME, TL_KEY_TYPE_ED25519) == 0, "%s", tl_error_message());
	v = verifier_of(key);
	for (int i = 0; i < 4; i++) {
		st[i] = (struct signing_thread){ key, v, 0 };
		ck_assert_int_eq(pthread_create(&th[i], NULL, sign_many, &st[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
		ck_assert_int_eq(st[i].failures, 0);
	}
	tl_signer_free(key);
	tl_verifier_free(v);
	hsm_free(&h);
}
END_TEST

START_TEST(a_witness_key_in_a_token_cosigns)
{
	struct hsm h;
	tl_signer *w = NULL;
	tl_verifier *v;
	tl_buf line = tl_buf_make(1024), msg = tl_buf_make(1024);
	uint8_t sig[TL_ED25519_SIGNATURE_SIZE];
	static const char body[] = "example.org/hsm-log\n7\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";

	hsm_init(&h);
	ck_assert_msg(tl_pkcs11_keygen(&w, "pkcs11:token=" TOKEN ";object=witness", PIN, "witness.example",
		TL_KEY_TYPE_COSIGNATURE) == 0, "%s", tl_error_message());
	ck_assert_uint_eq(tl_signer_type(w), TL_KEY_TYPE_COSIGNATURE);
	v = verifier_of(w);
	ck_assert_uint_eq(tl_verifier_type(v), TL_KEY_TYPE_COSIGNATURE);
	ck_assert_int_eq(tl_cosig_sign(&line, (const uint8_t *)body, strlen(body), 1700000000, w), 0);
	ck_assert_int_eq(tl_cosig_message(&msg, 1700000000, (const uint8_t *)body, strlen(body)), 0);
	ck_assert_int_eq(tl_signer_sign(sig, w, msg.data, msg.len), 0);
	ck_assert_int_eq(tl_cosig_verify_raw(v, (const uint8_t *)body, strlen(body), 1700000000, sig, sizeof(sig)), 0);
	ck_assert_int_eq(tl_cosig_verify_raw(v, (const uint8_t *)body, strlen(body), 1700000001, sig, sizeof(sig)),
		TL_E_UNAUTHORIZED);
	tl_signer_free(w);
	tl_verifier_free(v);
	tl_buf_free(&line);
	tl_buf_free(&msg);
	hsm_free(&h);
}
END_TEST

/* Asks the module itself, without translog in between, for the key's attributes. */
static void check_private_key_stays_inside(const char *label)
{
	CK_RV (*get_list)(CK_FUNCTION_LIST_PTR_PTR);
	CK_FUNCTION_LIST_PTR f = NULL;
	CK_SLOT_ID slots[16];
	CK_ULONG n_slots = 16, n = 0;
	CK_SESSION_HANDLE session;
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE find[] = { { CKA_CLASS, &cls, sizeof(cls) }, { CKA_LABEL, (void *)(uintptr_t)label, strlen(label) } };
	CK_OBJECT_HANDLE key;
	CK_BBOOL sensitive = CK_FALSE, extractable = CK_TRUE, on_token = CK_FALSE, never_extractable = CK_FALSE;
	CK_ATTRIBUTE flags[] = {
		{ CKA_SENSITIVE, &sensitive, sizeof(sensitive) }, { CKA_EXTRACTABLE, &extractable, sizeof(extractable) },
		{ CKA_TOKEN, &on_token, sizeof(on_token) }, { CKA_NEVER_EXTRACTABLE, &never_extractable, sizeof(never_extractable) },
	};
	uint8_t secret[128];
	CK_ATTRIBUTE value = { CKA_VALUE, secret, sizeof(secret) };
	void *dl = dlopen(tl_pkcs11_default_module(), RTLD_NOW | RTLD_LOCAL);
	CK_TOKEN_INFO ti;
	int found = 0;

	ck_assert_ptr_nonnull(dl);
	*(void **)&get_list = dlsym(dl, "C_GetFunctionList");
	ck_assert(get_list != NULL);
	ck_assert_int_eq(get_list(&f), CKR_OK);
	ck_assert_int_eq(f->C_Initialize(NULL), CKR_OK);
	ck_assert_int_eq(f->C_GetSlotList(CK_TRUE, slots, &n_slots), CKR_OK);
	for (CK_ULONG i = 0; i < n_slots && !found; i++) {
		ck_assert_int_eq(f->C_GetTokenInfo(slots[i], &ti), CKR_OK);
		if (memcmp(ti.label, TOKEN, strlen(TOKEN)) == 0 && ti.label[strlen(TOKEN)] == ' ')
			found = 1;
		if (found)
			ck_assert_int_eq(f->C_OpenSession(slots[i], CKF_SERIAL_SESSION, NULL, NULL, &session), CKR_OK);
	}
	ck_assert(found);
	ck_assert_int_eq(f->C_Login(session, CKU_USER, (CK_UTF8CHAR_PTR)(uintptr_t)PIN, strlen(PIN)), CKR_OK);
	ck_assert_int_eq(f->C_FindObjectsInit(session, find, 2), CKR_OK);
	ck_assert_int_eq(f->C_FindObjects(session, &key, 1, &n), CKR_OK);
	ck_assert_int_eq(f->C_FindObjectsFinal(session), CKR_OK);
	ck_assert_uint_eq(n, 1);

	ck_assert_int_eq(f->C_GetAttributeValue(session, key, flags, 4), CKR_OK);
	ck_assert_int_eq(sensitive, CK_TRUE);
	ck_assert_int_eq(extractable, CK_FALSE);
	ck_assert_int_eq(never_extractable, CK_TRUE);
	ck_assert_int_eq(on_token, CK_TRUE);
	/* The private key's value is not readable, even when logged in. */
	ck_assert_int_eq(f->C_GetAttributeValue(session, key, &value, 1), CKR_ATTRIBUTE_SENSITIVE);
	ck_assert_uint_eq(value.ulValueLen, (CK_ULONG)-1);

	f->C_CloseSession(session);
	ck_assert_int_eq(f->C_Finalize(NULL), CKR_OK);
	/* Kept loaded, as translog keeps it (see pkcs11_module.c). */
}

START_TEST(the_private_key_never_leaves_the_token)
{
	struct hsm h;
	tl_signer *key = NULL;
	tl_buf text = tl_buf_make(TL_MAX_KEY_TEXT);

	hsm_init(&h);
	ck_assert_msg(tl_pkcs11_keygen(&key, URI, PIN, LOG_NAME, TL_KEY_TYPE_ED25519) == 0, "%s", tl_error_message());
	ck_assert_int_eq(tl_signer_format(&text, key), TL_E_INPUT);
	ck_assert_int_eq(tl_signer_save(key, tu_path_in(h.dir, "exported.key")), TL_E_INPUT);
	tl_signer_free(key);
	check_private_key_stays_inside("log-key");
	tl_buf_free(&text);
	hsm_free(&h);
}
END_TEST

START_TEST(what_cannot_be_opened_says_why)
{
	struct hsm h;
	tl_signer *key = NULL;

	hsm_init(&h);
	ck_assert_int_eq(tl_pkcs11_keygen(&key, URI, PIN, LOG_NAME, TL_KEY_TYPE_ED25519), 0);
	tl_signer_free(key);
	key = NULL;

	/* Never two keys under one label. */
	ck_assert_int_eq(tl_pkcs11_keygen(&key, URI, PIN, LOG_NAME, TL_KEY_TYPE_ED25519), TL_E_CONFLICT);
	/* Wrong or missing PIN. */
	ck_assert_int_eq(tl_pkcs11_signer_open(&key, URI, "0000"), TL_E_UNAUTHORIZED);
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "CKR_PIN_INCORRECT"));
	ck_assert_int_eq(tl_pkcs11_signer_open(&key, URI, NULL), TL_E_UNAUTHORIZED);
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "needs a PIN"));
	/* No such key, token or module; a library that is not a module. */
	ck_assert_int_eq(tl_pkcs11_signer_open(&key, "pkcs11:token=" TOKEN ";object=other", PIN), TL_E_NOTFOUND);
	ck_assert_int_eq(tl_pkcs11_signer_open(&key, "pkcs11:token=nope;object=log-key", PIN), TL_E_NOTFOUND);
	ck_assert_int_eq(tl_pkcs11_signer_open(&key, URI "?module-path=/nonexistent/module.so", PIN), TL_E_NOTFOUND);
	{
		Dl_info libc;
		char uri[4096];

		ck_assert_int_ne(dladdr((void *)(uintptr_t)&strlen, &libc), 0);
		snprintf(uri, sizeof(uri), URI "?module-path=%s", libc.dli_fname);
		ck_assert_int_eq(tl_pkcs11_signer_open(&key, uri, PIN), TL_E_INPUT);
		ck_assert_ptr_nonnull(strstr(tl_error_message(), "not a PKCS#11 module"));
	}
	/* URIs that name no signing key. */
	ck_assert_int_eq(tl_pkcs11_signer_open(&key, "pkcs11:token=" TOKEN, PIN), TL_E_INPUT);
	ck_assert_int_eq(tl_pkcs11_signer_open(&key, URI ";type=public", PIN), TL_E_INPUT);
	ck_assert_int_eq(tl_pkcs11_signer_open(&key, URI "?pin-value=1234", NULL), TL_E_INPUT);
	ck_assert_int_eq(tl_pkcs11_keygen(&key, "pkcs11:token=" TOKEN, PIN, LOG_NAME, TL_KEY_TYPE_ED25519), TL_E_INPUT);
	ck_assert_int_eq(tl_pkcs11_keygen(&key, "pkcs11:token=" TOKEN ";object=x", PIN, "bad name", TL_KEY_TYPE_ED25519),
		TL_E_INPUT);
	ck_assert_ptr_null(key);
	/* A URI that names no token picks the one initialised token (not SoftHSM2's free slot). */
	ck_assert_msg(tl_pkcs11_signer_open(&key, "pkcs11:object=log-key", PIN) == 0, "%s", tl_error_message());
	tl_signer_free(key);
	key = NULL;
	/* With a second token it is ambiguous, and refused as such. */
	ck_assert_int_eq(tu_system("softhsm2-util --init-token --free --label other --pin %s --so-pin 5678 >/dev/null", PIN), 0);
	ck_assert_int_eq(tl_pkcs11_signer_open(&key, "pkcs11:object=log-key", PIN), TL_E_INPUT);
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "2 tokens match"));
	/* The explicit module path works as well as the default. */
	{
		char uri[4096];

		snprintf(uri, sizeof(uri), URI "?module-path=%s", tl_pkcs11_default_module());
		ck_assert_int_eq(tl_pkcs11_signer_open(&key, uri, PIN), 0);
		tl_signer_free(key);
	}
	hsm_free(&h);
}
END_TEST

START_TEST(bundlectl_keygen_and_the_daemon_use_the_token)
{
	struct hsm h;
	struct tu_output o = { 0 };
	struct tu_daemon d;
	char *body = NULL, vkey[512], data[4200], cp_path[4200];
	const char *args[] = { "--log-key", URI, "--pkcs11-pin-file", h.pin_file, NULL };
	size_t len = 0;

	hsm_init(&h);
	args[3] = h.pin_file;
	ck_assert_int_eq(tu_run(&o, h.dir, "bundlectl", "keygen --pkcs11 '%s' --pkcs11-pin-file '%s' --name %s", URI,
		h.pin_file, LOG_NAME), 0);
	ck_assert_int_eq(sscanf(o.out, "%511s", vkey), 1);
	ck_assert_ptr_nonnull(strstr(vkey, LOG_NAME "+"));
	/* The same key again is refused, as keygen never overwrites a key file. */
	ck_assert_int_eq(tu_run(&o, h.dir, "bundlectl", "keygen --pkcs11 '%s' --pkcs11-pin-file '%s' --name %s", URI,
		h.pin_file, LOG_NAME), 2);
	ck_assert_ptr_nonnull(strstr(o.err, "already holds"));
	/* The PIN from the environment; a wrong one is refused; none at all too. */
	ck_assert_int_eq(tu_run(&o, h.dir, "bundlectl", "keygen --pkcs11 'pkcs11:token=%s;object=w' --name w.example "
		"--cosigner", TOKEN), 2);
	ck_assert_ptr_nonnull(strstr(o.err, "needs a PIN"));
	setenv("BUNDLED_PKCS11_PIN", "0000", 1);
	ck_assert_int_eq(tu_run(&o, h.dir, "bundlectl", "keygen --pkcs11 'pkcs11:token=%s;object=w' --name w.example",
		TOKEN), 2);
	ck_assert_ptr_nonnull(strstr(o.err, "CKR_PIN_INCORRECT"));
	setenv("BUNDLED_PKCS11_PIN", PIN, 1);
	ck_assert_int_eq(tu_run(&o, h.dir, "bundlectl", "keygen --pkcs11 'pkcs11:token=%s;object=w' --name w.example "
		"--cosigner", TOKEN), 0);
	ck_assert_ptr_nonnull(strstr(o.out, "w.example+"));
	unsetenv("BUNDLED_PKCS11_PIN");
	/* --out and --pkcs11 are one or the other. */
	ck_assert_int_eq(tu_run(&o, h.dir, "bundlectl", "keygen --pkcs11 '%s' --out x --name n", URI), 2);

	/* The daemon signs with the token's key; bundlectl accepts its checkpoint. */
	snprintf(data, sizeof(data), "%s/data", h.dir);
	ck_assert_int_eq(tu_daemon_start(&d, data, args), 0);
	ck_assert_str_eq(d.vkey, vkey);
	ck_assert_int_eq(tu_http_get(&d, "/checkpoint", &body, &len), 200);
	snprintf(cp_path, sizeof(cp_path), "%s/checkpoint", h.dir);
	ck_assert_int_eq(tu_write_file(cp_path, body, len), 0);
	ck_assert_int_eq(tu_daemon_stop(&d), 0);
	ck_assert_int_eq(tu_run(&o, h.dir, "bundlectl", "verify-checkpoint --vkey '%s' '%s'", vkey, cp_path), 0);
	ck_assert_ptr_nonnull(strstr(o.out, "ok: " LOG_NAME " size 0"));

	/* A wrong PIN stops the daemon before it listens. */
	ck_assert_int_eq(tu_write_file(h.pin_file, "0000\n", 5), 0);
	ck_assert_int_ne(tu_daemon_start(&d, data, args), 0);
	free(body);
	tu_output_free(&o);
	hsm_free(&h);
}
END_TEST

/* bundlectl witness serve with its key in the token: the cosignature it returns verifies under
 * the verifier key keygen printed. */
START_TEST(witness_serve_signs_with_a_token_key)
{
	struct hsm h;
	struct tu_output o = { 0 };
	struct tu_daemon d;
	char wvkey[512], state[4200], log_path[4300];
	tl_buf lvkey = tl_buf_make(TL_MAX_KEY_TEXT), note = tl_buf_make(4096), cosig = tl_buf_make(4096);
	tl_checkpoint cp = { .origin = LOG_NAME, .size = 0 };
	tl_signer *log_key;
	tl_verifier *wv;
	bd_witness_client *c;
	tl_note n;
	uint64_t ts = 0;

	hsm_init(&h);
	ck_assert_int_eq(tu_run(&o, h.dir, "bundlectl", "keygen --pkcs11 'pkcs11:token=%s;object=w' --pkcs11-pin-file '%s' "
		"--name w.example --cosigner", TOKEN, h.pin_file), 0);
	ck_assert_int_eq(sscanf(o.out, "%511s", wvkey), 1);
	ck_assert_int_eq(tl_verifier_parse(&wv, wvkey, strlen(wvkey)), 0);
	ck_assert_int_eq(tl_signer_generate(&log_key, LOG_NAME), 0);
	ck_assert_int_eq(tl_signer_vkey(&lvkey, log_key), 0);
	snprintf(state, sizeof(state), "%s/witness-state", h.dir);
	snprintf(log_path, sizeof(log_path), "%s.log", state);
	{
		char uri[256];
		const char *args[] = { "witness", "serve", "--key", uri, "--pkcs11-pin-file", h.pin_file, "--log",
			(const char *)lvkey.data, "--state", state, "--listen", "127.0.0.1:0", NULL };

		snprintf(uri, sizeof(uri), "pkcs11:token=%s;object=w", TOKEN);
		ck_assert_int_eq(tu_server_start(&d, "bundlectl", args, log_path), 0);
	}
	ck_assert_str_eq(d.vkey, wvkey);
	tl_hash_empty(&cp.root);
	ck_assert_int_eq(tl_checkpoint_sign(&note, &cp, log_key), 0);
	ck_assert_int_eq(bd_witness_client_open(&c, &(bd_witness_client_options){ .url = d.base_url, .key = wv, .timeout_ms = 10000, .connect_timeout_ms = 2000 }), 0);
	ck_assert_msg(bd_witness_client_add_checkpoint(&cosig, &ts, NULL, c, 0, NULL, 0, note.data, note.len) == 0, "%s",
		tl_error_message());
	ck_assert_int_eq(tl_note_parse(&n, note.data, note.len), 0);
	ck_assert_int_eq(tl_note_add_sig_lines(&n, cosig.data, cosig.len), 0);
	ck_assert_int_eq(tl_cosig_verify(&ts, &n, wv), 0);
	bd_witness_client_close(c);
	ck_assert_int_eq(tu_daemon_stop(&d), 0);
	tl_verifier_free(wv);
	tl_signer_free(log_key);
	tl_buf_free(&lvkey);
	tl_buf_free(&note);
	tl_buf_free(&cosig);
	tu_output_free(&o);
	hsm_free(&h);
}
END_TEST

Suite *suite_hsm(void)
{
	Suite *s = suite_create("hsm");
	TCase *tc = tcase_create("softhsm2");

	/* Each test initialises a token (SoftHSM2 key stores) and some start the daemon. */
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, a_token_key_runs_a_log_whose_checkpoints_verify);
	tcase_add_test(tc, one_token_key_signs_from_many_threads);
	tcase_add_test(tc, a_witness_key_in_a_token_cosigns);
	tcase_add_test(tc, the_private_key_never_leaves_the_token);
	tcase_add_test(tc, what_cannot_be_opened_says_why);
	tcase_add_test(tc, bundlectl_keygen_and_the_daemon_use_the_token);
	tcase_add_test(tc, witness_serve_signs_with_a_token_key);
	suite_add_tcase(s, tc);
	return s;
}

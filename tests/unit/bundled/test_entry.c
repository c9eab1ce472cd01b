#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundled/bundle.h"
#include "bundled/cid.h"
#include "bundled/entry.h"
#include "testbundle.h"
#include "testentry.h"
#include "testutil.h"
#include "translog/key.h"

static const char *const ORIGIN = TU_LOG_ORIGIN;

static void some_cid(char *out, const char *content)
{
	bd_cid cid;

	bd_cid_of(&cid, BD_CODEC_RAW, content, strlen(content));
	ck_assert_int_eq(bd_cid_format(out, BD_MAX_CID_TEXT + 1, &cid), 0);
}

static bd_entry *bundle_entry(const tl_signer *key)
{
	bd_entry *e = calloc(1, sizeof(*e));

	e->kind = BD_ENTRY_BUNDLE;
	strcpy(e->domain, "example.org");
	e->sequence = 7;
	e->refresh_hint = 300;
	e->size = 1234;
	tl_sha256(&e->sha256, "bundle", 6);
	some_cid(e->cid, "bundle");
	e->time = 1700000000;
	ck_assert_int_eq(bd_entry_sign(e, ORIGIN, key), 0);
	return e;
}

static bd_entry *revocation_entry(const tl_signer *key, bool by_kid)
{
	bd_entry *e = calloc(1, sizeof(*e));

	e->kind = BD_ENTRY_REVOCATION;
	strcpy(e->domain, "example.org");
	e->authority_is_kid = by_kid;
	if (by_kid)
		strcpy(e->authority_kid, "Y4hd0c8NM9mFr1zN7f4LJw");
	else
		tl_sha256(&e->authority_sha256, "der", 3);
	strcpy(e->reason, "key compromise: laptop stolen (ticket #42)");
	e->sequence = 7;
	tl_sha256(&e->sha256, "bundle", 6);
	some_cid(e->cid, "bundle");
	e->time = 1700000000;
	ck_assert_int_eq(bd_entry_sign(e, ORIGIN, key), 0);
	return e;
}

static char *write_text(const bd_entry *e)
{
	tl_buf b = tl_buf_make(BD_ENTRY_MAX_SIZE);
	int err = bd_entry_write(&b, e);

	ck_assert_msg(err == 0, "%s", tl_error_message());
	return (char *)tl_buf_detach(&b, &(size_t){ 0 });
}

/* parse(write(e)) writes the same bytes again, and equals e field by field. */
static void assert_round_trip(const bd_entry *e)
{
	char *text = write_text(e), *again;
	bd_entry *p = calloc(1, sizeof(*p));

	ck_assert_msg(bd_entry_parse(p, (const uint8_t *)text, strlen(text)) == 0, "%s\n%s", tl_error_message(), text);
	again = write_text(p);
	ck_assert_str_eq(text, again);
	ck_assert_int_eq(p->kind, e->kind);
	ck_assert_str_eq(p->domain, e->domain);
	ck_assert_uint_eq(p->time, e->time);
	ck_assert_uint_eq(p->sequence, e->sequence);
	ck_assert_uint_eq(p->n_keys, e->n_keys);
	ck_assert(p->has_signature == e->has_signature);
	ck_assert(memcmp(p->signature, e->signature, sizeof(p->signature)) == 0);
	ck_assert(tl_hash_equal(&p->key, &e->key));
	ck_assert(tl_hash_equal(&p->sha256, &e->sha256));
	ck_assert_str_eq(p->cid, e->cid);
	ck_assert_str_eq(p->reason, e->reason);
	ck_assert_str_eq(p->authority_kid, e->authority_kid);
	free(text);
	free(again);
	free(p);
}

START_TEST(every_kind_round_trips)
{
	tl_signer *k1 = tu_signer(1, "pub1"), *k2 = tu_signer(2, "pub2"), *k3 = tu_signer(3, "pub3");
	tl_signer *all[] = { k1, k2, k3 };
	bd_entry *e;

	assert_round_trip(e = bundle_entry(k1));
	e->refresh_hint = 0;
	e->sequence = UINT64_MAX;
	ck_assert_int_eq(bd_entry_sign(e, ORIGIN, k1), 0);
	assert_round_trip(e);
	free(e);
	assert_round_trip(e = revocation_entry(k1, false));
	free(e);
	assert_round_trip(e = revocation_entry(k1, true));
	free(e);
	assert_round_trip(e = tu_register("example.org", all, 3, 1700000000));
	free(e);
	assert_round_trip(e = tu_register("example.org", all, 1, 1700000000));
	free(e);
	assert_round_trip(e = tu_key_change("example.org", BD_DOMAIN_ADD_KEY, k2, k1, 1700000001));
	free(e);
	assert_round_trip(e = tu_key_change("example.org", BD_DOMAIN_REMOVE_KEY, k1, k2, 1700000001));
	free(e);
	tl_signer_free(k1);
	tl_signer_free(k2);
	tl_signer_free(k3);
}
END_TEST

START_TEST(bundle_entry_has_the_documented_text)
{
	tl_signer *k = tu_signer(1, "pub1");
	bd_entry *e = bundle_entry(k);
	char *text = write_text(e), want[2048], hex[65], cid[BD_MAX_CID_TEXT + 1];
	tl_buf sig = tl_buf_make(256);

	tl_hex_encode(hex, e->sha256.b, TL_HASH_SIZE);
	some_cid(cid, "bundle");
	ck_assert_int_eq(tl_base64_encode(&sig, e->signature, 64), 0);
	{
		char keyhex[65];

		tl_hex_encode(keyhex, e->key.b, TL_HASH_SIZE);
		snprintf(want, sizeof(want),
			"bundled-entry v1\nkind bundle\ndomain example.org\nsequence 7\nrefresh-hint 300\nsize 1234\n"
			"sha256 %s\ncid %s\ntime 1700000000\nkey %s\nsignature %s\n",
			hex, cid, keyhex, (const char *)sig.data);
	}
	ck_assert_str_eq(text, want);
	free(text);
	free(e);
	tl_buf_free(&sig);
	tl_signer_free(k);
}
END_TEST

/* Replaces the first `from` in `text` by `to` and expects the reader to refuse the result. */
static void refuse_edit(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	size_t n = strlen(text) - strlen(from) + strlen(to);
	char *edited = malloc(n + 1);
	bd_entry *e = calloc(1, sizeof(*e));

	ck_assert_msg(at != NULL, "\"%s\" not in the entry", from);
	memcpy(edited, text, (size_t)(at - text));
	strcpy(edited + (at - text), to);
	strcat(edited, at + strlen(from));
	ck_assert_msg(bd_entry_parse(e, (const uint8_t *)edited, n) == TL_E_INPUT, "accepted after \"%s\" -> \"%s\":\n%s",
		from, to, edited);
	ck_assert_str_ne(tl_error_message(), "");
	ck_assert_int_eq(e->kind, 0); /* nothing half-parsed is left behind */
	free(edited);
	free(e);
}

static void refuse_text(const char *text)
{
	bd_entry e;

	ck_assert_msg(bd_entry_parse(&e, (const uint8_t *)text, strlen(text)) == TL_E_INPUT, "accepted:\n%s", text);
}

START_TEST(bundle_entry_refusals)
{
	tl_signer *k = tu_signer(1, "pub1");
	bd_entry *e = bundle_entry(k);
	char *t = write_text(e);
	const char *sig = strstr(t, "signature ");

	/* header and kind */
	refuse_edit(t, "bundled-entry v1\n", "bundled-entry v2\n");
	refuse_edit(t, "bundled-entry v1\n", "");
	refuse_edit(t, "kind bundle", "kind Bundle");
	refuse_edit(t, "kind bundle", "kind bundles");
	/* key order, missing, extra and repeated lines */
	refuse_edit(t, "sequence 7\nrefresh-hint 300\n", "refresh-hint 300\nsequence 7\n");
	refuse_edit(t, "size 1234\n", "");
	refuse_edit(t, "refresh-hint 300\n", "");
	refuse_edit(t, "size 1234\n", "size 1234\nsize 1234\n");
	refuse_edit(t, "size 1234\n", "size 1234\ncomment hello\n");
	refuse_edit(t, "domain example.org\n", "domain example.org\ndomain example.org\n");
	refuse_edit(t, "time 1700000000\n", "time 1700000000\n\n");
	refuse_edit(t, sig, "");
	refuse_edit(t, sig, "signature\n");
	/* line discipline */
	refuse_edit(t, "size 1234\n", "size 1234\r\n");
	refuse_edit(t, "size 1234\n", "size 1234 \n");
	refuse_edit(t, "size 1234\n", "size  1234\n");
	refuse_edit(t, "size 1234\n", " size 1234\n");
	refuse_edit(t, "size 1234\n", "size\t1234\n");
	refuse_edit(t, "size 1234\n", "size\n");
	refuse_edit(t, "size 1234\n", "SIZE 1234\n");
	{
		/* no final line feed */
		char *cut = strdup(t);

		cut[strlen(cut) - 1] = '\0';
		refuse_text(cut);
		free(cut);
	}
	/* canonical decimals */
	refuse_edit(t, "size 1234", "size 01234");
	refuse_edit(t, "size 1234", "size +1234");
	refuse_edit(t, "size 1234", "size 0");
	refuse_edit(t, "size 1234", "size 16777217");
	refuse_edit(t, "sequence 7", "sequence 07");
	refuse_edit(t, "sequence 7", "sequence -7");
	refuse_edit(t, "sequence 7", "sequence 18446744073709551616");
	refuse_edit(t, "refresh-hint 300", "refresh-hint 2147483648");
	refuse_edit(t, "time 1700000000", "time 9223372036854775808");
	refuse_edit(t, "time 1700000000", "time 1.7e9");
	/* hex, base64, cid */
	refuse_edit(t, "sha256 ", "sha256 A");
	{
		char *up = strdup(t), *h = strstr(up, "sha256 ") + 7;

		for (int i = 0; i < 64; i++)
			if (h[i] >= 'a' && h[i] <= 'f')
				h[i] = (char)(h[i] - 'a' + 'A');
		refuse_text(up);
		free(up);
	}
	refuse_edit(t, "\nkey ", "\nkey 00");
	refuse_edit(t, "signature ", "signature A");
	refuse_edit(t, "==\n", "\n");
	refuse_edit(t, "==\n", "=\n");
	{
		/* non-zero padding bits: the last character before "==" carries 4 unused bits */
		char *nc = strdup(t), *pad = strstr(nc, "==\n");

		pad[-1] = pad[-1] == 'A' ? 'B' : (char)(pad[-1] ^ 1);
		refuse_text(nc);
		free(nc);
	}
	refuse_edit(t, "cid b", "cid B");
	refuse_edit(t, "cid b", "cid ");
	refuse_edit(t, "cid bafk", "cid bafy");
	refuse_edit(t, "cid bafkrei", "cid zb2rhj7crUKTQYRGCRATFaQ6YFLTde2YzdqbbhAASkL9uRDXn\nx bafkrei");
	refuse_text("bundled-entry v1\nkind bundle\ndomain example.org\n");
	/* domain names */
	refuse_edit(t, "domain example.org", "domain Example.org");
	refuse_edit(t, "domain example.org", "domain example.org:443");
	refuse_edit(t, "domain example.org", "domain spiffe://example.org");
	refuse_edit(t, "domain example.org", "domain example.org/path");
	refuse_edit(t, "domain example.org", "domain user@example.org");
	refuse_edit(t, "domain example.org", "domain");
	free(t);
	free(e);
	tl_signer_free(k);
}
END_TEST

START_TEST(revocation_refusals)
{
	tl_signer *k = tu_signer(1, "pub1");
	bd_entry *e = revocation_entry(k, false);
	char *t = write_text(e), *tk;
	char *sig;

	refuse_edit(t, "authority sha256:", "authority sha256: ");
	refuse_edit(t, "authority sha256:", "authority sha1:");
	refuse_edit(t, "authority sha256:", "authority sha256:0");
	refuse_edit(t, "authority sha256:", "authority ");
	refuse_edit(t, "reason key", "reason  key");
	refuse_edit(t, "(ticket #42)", "(ticket #42) ");
	refuse_edit(t, "laptop", "lap\ttop");
	refuse_edit(t, "laptop", "lap\x7ftop");
	refuse_edit(t, "laptop", "lap\xc3\xa9top");
	refuse_edit(t, "laptop", "lap\x1btop");
	refuse_edit(t, "reason key compromise: laptop stolen (ticket #42)\n", "");
	refuse_edit(t, "sequence 7\n", "sequence 7\nrefresh-hint 300\n");
	{
		char longr[BD_ENTRY_MAX_REASON + 16];

		memset(longr, 'x', BD_ENTRY_MAX_REASON + 1);
		longr[BD_ENTRY_MAX_REASON + 1] = '\0';
		refuse_edit(t, "key compromise: laptop stolen (ticket #42)", longr);
	}
	refuse_edit(t, "authority sha256:", "reason x\nauthority sha256:");
	sig = strstr(t, "signature ");
	refuse_edit(t, sig, "");
	free(e);
	e = revocation_entry(k, true);
	tk = write_text(e);
	refuse_edit(tk, "kid:Y4hd0c8NM9mFr1zN7f4LJw", "kid:");
	refuse_edit(tk, "kid:Y4hd", "kid:Y 4hd");
	refuse_edit(tk, "kid:Y4hd", "KID:Y4hd");
	free(tk);
	free(t);
	free(e);
	tl_signer_free(k);
}
END_TEST

START_TEST(domain_entry_refusals)
{
	tl_signer *k1 = tu_signer(1, "pub1"), *k2 = tu_signer(2, "pub2"), *k3 = tu_signer(3, "pub3");
	tl_signer *all[] = { k1, k2, k3 };
	bd_entry *reg = tu_register("example.org", all, 3, 1700000000);
	bd_entry *add = tu_key_change("example.org", BD_DOMAIN_ADD_KEY, k3, k1, 1700000001);
	char *t = write_text(reg), *ta = write_text(add);
	char *first = strstr(t, "publisher-key "), *second = strstr(first + 1, "publisher-key ");
	char *third = strstr(second + 1, "publisher-key ");
	size_t l1 = (size_t)(second - first), l2 = (size_t)(third - second);
	char one[BD_MAX_VKEY + 32], two[BD_MAX_VKEY + 32], swapped[2 * BD_MAX_VKEY + 64];

	memcpy(one, first, l1);
	one[l1] = '\0';
	memcpy(two, second, l2);
	two[l2] = '\0';
	/* unsorted and duplicate keys */
	snprintf(swapped, sizeof(swapped), "%s%s", two, one);
	{
		char both[2 * BD_MAX_VKEY + 64];

		snprintf(both, sizeof(both), "%s%s", one, two);
		refuse_edit(t, both, swapped);
		snprintf(swapped, sizeof(swapped), "%s%s", one, one);
		refuse_edit(t, both, swapped);
	}
	/* no key, a malformed key, a cosignature-type key */
	{
		char *none = strdup(t), *a = strstr(none, "publisher-key "), *b = strstr(none, "time ");

		memmove(a, b, strlen(b) + 1);
		refuse_text(none);
		free(none);
	}
	refuse_edit(t, "publisher-key pub", "publisher-key Pub");
	refuse_edit(t, "publisher-key pub1+", "publisher-key pub1++");
	refuse_edit(t, "authorized-by operator", "authorized-by Operator");
	refuse_edit(t, "authorized-by operator\n", "authorized-by operator\nsignature " /* 88 chars */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n");
	refuse_edit(t, "action register", "action Register");
	refuse_edit(t, "action register", "action rename");
	refuse_edit(t, "action register\n", "");
	/* a key change is signed, never by the operator, and names exactly one key */
	refuse_edit(ta, "action add-key", "action register");
	{
		char *sig = strstr(ta, "signature ");

		refuse_edit(ta, sig, "");
	}
	{
		char *by = strstr(ta, "authorized-by ");
		char *end = strchr(by, '\n');
		char line[128];

		snprintf(line, sizeof(line), "%.*s", (int)(end - by), by);
		refuse_edit(ta, line, "authorized-by operator");
	}
	{
		char doubled[2 * BD_MAX_VKEY + 64];

		snprintf(doubled, sizeof(doubled), "%s%s", one, "publisher-key ");
		refuse_edit(ta, "publisher-key ", doubled);
	}
	free(t);
	free(ta);
	free(reg);
	free(add);
	tl_signer_free(k1);
	tl_signer_free(k2);
	tl_signer_free(k3);
}
END_TEST

START_TEST(more_than_max_keys_is_refused)
{
	tl_signer *keys[BD_ENTRY_MAX_KEYS + 1];
	bd_entry *e;
	char *t, *extra;
	tl_buf b = tl_buf_make(2 * BD_ENTRY_MAX_SIZE);
	bd_entry parsed;

	for (size_t i = 0; i <= BD_ENTRY_MAX_KEYS; i++) {
		char name[16];

		snprintf(name, sizeof(name), "p%zu", i);
		keys[i] = tu_signer((uint8_t)(10 + i), name);
	}
	e = tu_register("example.org", keys, BD_ENTRY_MAX_KEYS, 1700000000);
	t = write_text(e);
	ck_assert_int_eq(bd_entry_parse(&parsed, (const uint8_t *)t, strlen(t)), 0);
	ck_assert_uint_eq(parsed.n_keys, BD_ENTRY_MAX_KEYS);
	/* one more key line: refused by the reader, and the writer refuses n_keys > MAX */
	extra = strstr(t, "time ");
	ck_assert_int_eq(tl_buf_append(&b, t, (size_t)(extra - t)), 0);
	ck_assert_int_eq(tl_buf_printf(&b, "publisher-key %s\n%s", e->keys[0], extra), 0);
	ck_assert_int_eq(bd_entry_parse(&parsed, b.data, b.len), TL_E_INPUT);
	e->n_keys = BD_ENTRY_MAX_KEYS + 1;
	tl_buf_reset(&b);
	ck_assert_int_eq(bd_entry_write(&b, e), TL_E_INPUT);
	ck_assert_uint_eq(b.len, 0);
	tl_buf_free(&b);
	free(t);
	free(e);
	for (size_t i = 0; i <= BD_ENTRY_MAX_KEYS; i++)
		tl_signer_free(keys[i]);
}
END_TEST

START_TEST(writer_refuses_what_the_reader_refuses)
{
	tl_signer *k = tu_signer(1, "pub1");
	bd_entry *e = bundle_entry(k);
	tl_buf b = tl_buf_make(BD_ENTRY_MAX_SIZE);

	e->has_signature = false;
	ck_assert_int_eq(bd_entry_write(&b, e), TL_E_INPUT); /* a bundle entry must be signed */
	e->has_signature = true;
	strcpy(e->domain, "Example.org");
	ck_assert_int_eq(bd_entry_write(&b, e), TL_E_INPUT);
	strcpy(e->domain, "example.org");
	strcpy(e->cid, "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn"); /* readable, not canonical */
	ck_assert_int_eq(bd_entry_write(&b, e), TL_E_INPUT);
	some_cid(e->cid, "bundle");
	e->size = 0;
	ck_assert_int_eq(bd_entry_write(&b, e), TL_E_INPUT);
	e->size = 1;
	e->refresh_hint = (uint64_t)BD_MAX_REFRESH_HINT + 1;
	ck_assert_int_eq(bd_entry_write(&b, e), TL_E_INPUT);
	e->refresh_hint = 0;
	e->kind = BD_ENTRY_REVOCATION;
	strcpy(e->reason, "bad\nreason");
	ck_assert_int_eq(bd_entry_write(&b, e), TL_E_INPUT);
	strcpy(e->reason, "fine");
	ck_assert_int_eq(bd_entry_write(&b, e), 0);
	ck_assert_uint_gt(b.len, 0);
	free(e);
	/* an operator registration carries no signature */
	{
		tl_signer *ks[] = { k };

		e = tu_register("example.org", ks, 1, 1700000000);
		e->has_signature = true;
		tl_buf_reset(&b);
		ck_assert_int_eq(bd_entry_write(&b, e), TL_E_INPUT);
		ck_assert_uint_eq(b.len, 0);
		free(e);
	}
	tl_buf_free(&b);
	tl_signer_free(k);
}
END_TEST

static tl_verifier *verifier_of(const tl_signer *s)
{
	tl_verifier *v = NULL;

	ck_assert_int_eq(tl_verifier_from_signer(&v, s), 0);
	return v;
}

START_TEST(signatures_verify_and_are_domain_separated)
{
	tl_signer *k = tu_signer(1, "pub1"), *other = tu_signer(2, "pub2");
	tl_verifier *v = verifier_of(k), *vo = verifier_of(other);
	bd_entry *b = bundle_entry(k), *r = revocation_entry(k, false);
	bd_entry *copy = malloc(sizeof(*copy));

	ck_assert_int_eq(bd_entry_verify(b, ORIGIN, v), 0);
	ck_assert_int_eq(bd_entry_verify(r, ORIGIN, v), 0);
	/* another log */
	ck_assert_int_eq(bd_entry_verify(b, "other.example/log", v), TL_E_UNAUTHORIZED);
	/* another key: the entry names k */
	ck_assert_int_eq(bd_entry_verify(b, ORIGIN, vo), TL_E_UNAUTHORIZED);
	/* the bundle entry's signature on a revocation with the same version fields */
	*copy = *r;
	memcpy(copy->signature, b->signature, sizeof(copy->signature));
	ck_assert_int_eq(bd_entry_verify(copy, ORIGIN, v), TL_E_UNAUTHORIZED);
	/* every signed field counts */
	*copy = *b;
	copy->sequence++;
	ck_assert_int_eq(bd_entry_verify(copy, ORIGIN, v), TL_E_UNAUTHORIZED);
	*copy = *b;
	copy->refresh_hint = 0;
	ck_assert_int_eq(bd_entry_verify(copy, ORIGIN, v), TL_E_UNAUTHORIZED);
	*copy = *b;
	copy->time++;
	ck_assert_int_eq(bd_entry_verify(copy, ORIGIN, v), TL_E_UNAUTHORIZED);
	*copy = *b;
	strcpy(copy->domain, "example.com");
	ck_assert_int_eq(bd_entry_verify(copy, ORIGIN, v), TL_E_UNAUTHORIZED);
	*copy = *r;
	strcpy(copy->reason, "other reason");
	ck_assert_int_eq(bd_entry_verify(copy, ORIGIN, v), TL_E_UNAUTHORIZED);
	/* unsigned */
	*copy = *b;
	copy->has_signature = false;
	ck_assert_int_eq(bd_entry_verify(copy, ORIGIN, v), TL_E_UNAUTHORIZED);
	free(copy);
	free(b);
	free(r);
	tl_verifier_free(v);
	tl_verifier_free(vo);
	tl_signer_free(k);
	tl_signer_free(other);
}
END_TEST

START_TEST(signed_message_is_context_origin_then_body)
{
	tl_signer *k = tu_signer(1, "pub1");
	tl_verifier *v = verifier_of(k);
	bd_entry *b = bundle_entry(k);
	tl_buf msg = tl_buf_make(BD_ENTRY_MAX_SIZE * 2);
	char *text = write_text(b), *sig = strstr(text, "signature ");
	char want[BD_ENTRY_MAX_SIZE];

	ck_assert_int_eq(bd_entry_signed_message(&msg, ORIGIN, b), 0);
	*sig = '\0';
	snprintf(want, sizeof(want), "bundled publisher signature v1\norigin %s\n%s", ORIGIN, text);
	ck_assert_str_eq((const char *)msg.data, want);
	/* an independent check with the raw primitive */
	ck_assert_int_eq(tl_verifier_verify(v, msg.data, msg.len, b->signature, 64), 0);
	tl_buf_free(&msg);
	free(text);
	free(b);
	tl_verifier_free(v);
	tl_signer_free(k);
}
END_TEST

START_TEST(domain_names_follow_spiffe)
{
	static const char *const good[] = { "example.org", "a", "td_1-2.example", "0", "xn--bcher-kva.example", "...",
		".a", "a.." };
	static const char *const bad[] = { "", "Example.org", "example.org:8443", "spiffe://example.org", "a/b",
		"user@host", "a b", "caf\xc3\xa9.org", "a\n", "%2e", ".", ".." };
	char max[BD_MAX_DOMAIN + 2];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(bd_domain_name_check(good[i], strlen(good[i])) == 0, "%s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(bd_domain_name_check(bad[i], strlen(bad[i])) == TL_E_INPUT, "%s", bad[i]);
	memset(max, 'a', sizeof(max));
	ck_assert_int_eq(bd_domain_name_check(max, BD_MAX_DOMAIN), 0);
	ck_assert_int_eq(bd_domain_name_check(max, BD_MAX_DOMAIN + 1), TL_E_INPUT);
}
END_TEST

START_TEST(fingerprint_is_sha256_of_the_public_key)
{
	tl_signer *k = tu_signer(1, "pub1");
	tl_verifier *v = verifier_of(k);
	tl_hash fp, want;

	bd_key_fingerprint(&fp, v);
	tl_sha256(&want, tl_signer_public_key(k), 32);
	ck_assert(tl_hash_equal(&fp, &want));
	tl_verifier_free(v);
	tl_signer_free(k);
}
END_TEST

START_TEST(version_fields_are_derived_from_the_bundle)
{
	size_t len;
	uint8_t *pem = tu_bundle_vector("bundle.pem", &len);
	bd_bundle *b = NULL, *empty = NULL;
	bd_entry *e = calloc(1, sizeof(*e));
	tl_buf canon = tl_buf_make(BD_MAX_BUNDLE_SIZE);
	bd_dag *dag = NULL, *ref;
	uint64_t seq = 0, hint = 0;
	char cid[BD_CID_TEXT_MAX];
	tl_hash sha;

	ck_assert_int_eq(bd_bundle_parse(&b, pem, len, NULL), 0);
	ck_assert_int_eq(tl_buf_append_str(&canon, "prefix"), 0);
	ck_assert_msg(bd_entry_set_version(e, &canon, &dag, b, 9, 600, NULL) == 0, "%s", tl_error_message());
	ck_assert(bd_bundle_sequence(&seq, b) && seq == 9);
	ck_assert(bd_bundle_refresh_hint(&hint, b) && hint == 600);
	ck_assert_uint_eq(e->sequence, 9);
	ck_assert_uint_eq(e->refresh_hint, 600);
	ck_assert_uint_eq(e->size, canon.len - 6);
	ck_assert_ptr_nonnull(strstr((const char *)canon.data, "\"spiffe_sequence\":9"));
	tl_sha256(&sha, canon.data + 6, canon.len - 6);
	ck_assert(tl_hash_equal(&sha, &e->sha256));
	ref = tu_dag_build(canon.data + 6, canon.len - 6, "lines");
	ck_assert_int_eq(bd_cid_format(cid, sizeof(cid), bd_dag_root(ref)), 0);
	ck_assert_str_eq(e->cid, cid);
	ck_assert(bd_cid_equal(bd_dag_root(dag), bd_dag_root(ref)));
	ck_assert_int_eq(e->kind, 0); /* nothing else touched */
	/* refresh hint 0: none in the canonical bytes; no buffers wanted */
	ck_assert_int_eq(bd_entry_set_version(e, NULL, NULL, b, 10, 0, NULL), 0);
	ck_assert(!bd_bundle_refresh_hint(&hint, b));
	ck_assert_uint_eq(e->refresh_hint, 0);
	/* an empty bundle has no version */
	ck_assert_int_eq(bd_bundle_new(&empty), 0);
	ck_assert_int_eq(bd_entry_set_version(e, &canon, NULL, empty, 1, 0, NULL), TL_E_INPUT);
	bd_bundle_free(empty);
	bd_dag_free(dag);
	bd_dag_free(ref);
	bd_bundle_free(b);
	tl_buf_free(&canon);
	free(e);
	free(pem);
}
END_TEST

/* The examples of docs/formats.md ("Log entries") parse, write back byte for byte and verify
 * with the keys the page names (seeds 01.. and 02.., log example.org/log). */
START_TEST(documented_examples_verify)
{
	size_t len, checked = 0;
	char *doc = (char *)tu_read_file(tu_source_path("docs/formats.md"), &len);
	char *at, *end;
	tl_signer *k1 = tu_signer(1, "pub1"), *k2 = tu_signer(2, "pub2");
	tl_verifier *v1 = NULL, *v2 = NULL;
	bd_entry *e = malloc(sizeof(*e));

	ck_assert_ptr_nonnull(doc);
	ck_assert_int_eq(tl_verifier_from_signer(&v1, k1), 0);
	ck_assert_int_eq(tl_verifier_from_signer(&v2, k2), 0);
	ck_assert_ptr_nonnull(at = strstr(doc, "\n## Log entries"));
	while ((at = strstr(at, "```\nbundled-entry v1\n")) != NULL) {
		char *text, *again;

		at += 4;
		ck_assert_ptr_nonnull(end = strstr(at, "```"));
		text = strndup(at, (size_t)(end - at));
		ck_assert_msg(bd_entry_parse(e, (const uint8_t *)text, strlen(text)) == 0, "%s\n%s", tl_error_message(),
			text);
		again = write_text(e);
		ck_assert_str_eq(again, text);
		if (e->has_signature) {
			tl_hash fp1;

			bd_key_fingerprint(&fp1, v1);
			ck_assert_int_eq(bd_entry_verify(e, "example.org/log", tl_hash_equal(&fp1, &e->key) ? v1 : v2), 0);
		}
		checked++;
		free(text);
		free(again);
		at = end + 3;
	}
	ck_assert_uint_ge(checked, 4);
	free(e);
	free(doc);
	tl_verifier_free(v1);
	tl_verifier_free(v2);
	tl_signer_free(k1);
	tl_signer_free(k2);
}
END_TEST

Suite *suite_entry(void)
{
	Suite *s = suite_create("entry");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, every_kind_round_trips);
	tcase_add_test(tc, bundle_entry_has_the_documented_text);
	tcase_add_test(tc, bundle_entry_refusals);
	tcase_add_test(tc, revocation_refusals);
	tcase_add_test(tc, domain_entry_refusals);
	tcase_add_test(tc, more_than_max_keys_is_refused);
	tcase_add_test(tc, writer_refuses_what_the_reader_refuses);
	tcase_add_test(tc, signatures_verify_and_are_domain_separated);
	tcase_add_test(tc, signed_message_is_context_origin_then_body);
	tcase_add_test(tc, domain_names_follow_spiffe);
	tcase_add_test(tc, fingerprint_is_sha256_of_the_public_key);
	tcase_add_test(tc, version_fields_are_derived_from_the_bundle);
	tcase_add_test(tc, documented_examples_verify);
	suite_add_tcase(s, tc);
	return s;
}

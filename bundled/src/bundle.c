/*
 * The bundle model: authorities, canonical order, uniqueness, fingerprints and validity
 * warnings. It stands on the key helpers (bundle_jwk.c) alone; the formats stand on it
 * (bundle_json.c, bundle_pem.c, bundle_der.c, one reader and writer each), and
 * bundle_parse.c, which sniffs the format, stands on them. Nothing here calls upwards.
 */
#include "bundle_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "translog/array.h"

/* An authority added through the API rather than read from a document. */
#define ORIGIN_ADDED SIZE_MAX

const char *bd_authority_kind_name(bd_authority_kind kind)
{
	switch (kind) {
	case BD_AUTHORITY_X509: return "x509-svid";
	case BD_AUTHORITY_JWT: return "jwt-svid";
	case BD_AUTHORITY_WIT: return "wit-svid";
	}
	return "?";
}

void bd_bundle__origin_label(char *buf, size_t size, bd_bundle_format format, size_t origin, bd_authority_kind kind)
{
	if (origin == ORIGIN_ADDED) {
		snprintf(buf, size, "added %s authority", bd_authority_kind_name(kind));
		return;
	}
	switch (format) {
	case BD_FORMAT_PEM:
		snprintf(buf, size, "PEM block %zu", origin + 1);
		break;
	case BD_FORMAT_DER:
		snprintf(buf, size, "DER certificate %zu", origin + 1);
		break;
	case BD_FORMAT_JWKS:
		snprintf(buf, size, "keys[%zu]", origin);
		break;
	default:
		snprintf(buf, size, "keys[%zu] (%s)", origin, bd_authority_kind_name(kind));
		break;
	}
}

/* ---- reports ---- */

void bd_bundle_report_free(bd_bundle_report *report)
{
	if (report == NULL)
		return;
	for (size_t i = 0; i < report->n_warnings; i++)
		free(report->warnings[i]);
	free(report->warnings);
	report->warnings = NULL;
	report->n_warnings = report->n_dropped = report->warnings_alloc = 0;
}

int bd_bundle__report_warn(bd_bundle_report *report, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int err;

	if (report == NULL)
		return 0;
	if (report->n_warnings >= BD_MAX_WARNINGS) {
		report->n_dropped++;
		return 0;
	}
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if ((err = tl_array_grow(&report->warnings, &report->warnings_alloc, report->n_warnings + 1,
		     sizeof(*report->warnings), BD_MAX_WARNINGS)) != 0)
		return err;
	if ((report->warnings[report->n_warnings] = strdup(line)) == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory recording a warning");
	report->n_warnings++;
	return 0;
}

/* ---- authorities ---- */

void bd_bundle__authority_free(bd_authority *a)
{
	if (a == NULL)
		return;
	EVP_PKEY_free(a->key);
	X509_free(a->cert);
	free(a->der);
	free(a->kid);
	free(a->jwk);
	free(a);
}

/* Renders the canonical JWK line and, for JWT and WIT keys, the fingerprint from it. */
static int authority_render(bd_authority *a)
{
	tl_buf line = tl_buf_make(BD_MAX_JWK_SIZE);
	int err;

	if ((err = bd_jwk__write(&line, a->key, bd_authority_kind_name(a->kind), a->kid, a->der, a->der_len)) != 0) {
		err = tl_error_wrap(err, "JWK");
		goto out;
	}
	a->jwk = (char *)tl_buf_detach(&line, &a->jwk_len);
	if (a->kind != BD_AUTHORITY_X509)
		tl_sha256(&a->fp, a->jwk, a->jwk_len);
out:
	tl_buf_free(&line);
	return err;
}

int bd_bundle__authority_from_der(bd_authority **out, const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	unsigned char *again = NULL;
	bd_authority *a = NULL;
	int n, err = 0;

	*out = NULL;
	if (len == 0)
		return tl_error_set(TL_E_INPUT, "empty certificate");
	if (len > BD_MAX_CERT_SIZE)
		return tl_error_set(TL_E_INPUT, "certificate of %zu bytes, over the limit of %u", len, BD_MAX_CERT_SIZE);
	if ((a = calloc(1, sizeof(*a))) == NULL || (a->der = malloc(len)) == NULL) {
		free(a);
		return tl_error_set(TL_E_NOMEM, "out of memory");
	}
	a->kind = BD_AUTHORITY_X509;
	memcpy(a->der, der, len);
	a->der_len = len;
	tl_sha256(&a->fp, der, len);
	/* Seen and checked before (bundle_cache.c): the same bytes give the same results. */
	if (bd_bundle__cache_get(&a->cert, &a->key, &a->jwk, &a->jwk_len, &a->fp)) {
		*out = a;
		return 0;
	}
	if ((a->cert = d2i_X509(NULL, &p, (long)len)) == NULL) {
		err = tl_error_set(TL_E_INPUT, "certificate does not parse (%s)", bd_jwk__ssl_reason());
		goto out;
	}
	if (p != der + len) {
		err = tl_error_set(TL_E_INPUT, "%zu bytes after the certificate", (size_t)(der + len - p));
		goto out;
	}
	/* Only DER, so that one certificate has one fingerprint and one canonical form. OpenSSL
	 * keeps the TBSCertificate's original bytes; i2d_re_X509_tbs drops that cache so the
	 * comparison sees a fresh encoding of the whole structure. */
	if ((n = i2d_re_X509_tbs(a->cert, &again)) < 0) {
		err = tl_error_set(TL_E_INPUT, "certificate does not re-encode (%s)", bd_jwk__ssl_reason());
		goto out;
	}
	OPENSSL_free(again);
	again = NULL;
	if ((n = i2d_X509(a->cert, &again)) < 0 || (size_t)n != len || memcmp(again, der, len) != 0) {
		ERR_clear_error();
		err = tl_error_set(TL_E_INPUT, "certificate is not DER (BER encoding)");
		goto out;
	}
	if (X509_check_ca(a->cert) < 1) {
		err = tl_error_set(TL_E_INPUT, "certificate is not a CA (basicConstraints lacks CA:TRUE)");
		goto out;
	}
	if (X509_get_extension_flags(a->cert) & EXFLAG_INVALID) {
		err = tl_error_set(TL_E_INPUT, "certificate has malformed or repeated extensions");
		goto out;
	}
	if ((err = bd_x509__go_check(der, len)) != 0)
		goto out;
	if ((a->key = X509_get_pubkey(a->cert)) == NULL) {
		err = tl_error_set(TL_E_INPUT, "certificate's public key does not parse (%s)", bd_jwk__ssl_reason());
		goto out;
	}
	if ((err = bd_jwk__key_check(a->key)) != 0) {
		err = tl_error_wrap(err, "certificate");
		goto out;
	}
	if ((err = authority_render(a)) != 0)
		goto out;
	bd_bundle__cache_put(&a->fp, len, a->cert, a->key, a->jwk, a->jwk_len);
	*out = a;
	a = NULL;
out:
	OPENSSL_free(again);
	bd_bundle__authority_free(a);
	return err;
}

/* Where a JWT or WIT authority's line is kept: its key's parameters, kind and kid. */
static void authority_key_fp(tl_hash *out, const tl_hash *key_fp, bd_authority_kind kind, const char *kid)
{
	static const char context[] = "bundled jwt authority v1";
	tl_buf b = tl_buf_make(sizeof(context) + TL_HASH_SIZE + 1 + BD_MAX_KID_SIZE);

	if (tl_buf_append(&b, context, sizeof(context)) != 0 || tl_buf_append(&b, key_fp->b, TL_HASH_SIZE) != 0 ||
		tl_buf_append_u8(&b, (uint8_t)kind) != 0 || tl_buf_append(&b, kid, strlen(kid)) != 0)
		memset(out, 0, sizeof(*out)); /* unreachable within the caps; an all-zero hash is never kept */
	else
		tl_sha256(out, b.data, b.len);
	tl_buf_free(&b);
}

int bd_bundle__authority_from_key(bd_authority **out, bd_authority_kind kind, const char *kid, EVP_PKEY *key,
	const tl_hash *key_fp)
{
	static const tl_hash none;
	bd_authority *a = NULL;
	EVP_PKEY *same = NULL;
	tl_hash fp;
	int err = 0;

	*out = NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		EVP_PKEY_free(key);
		return tl_error_set(TL_E_NOMEM, "out of memory");
	}
	a->kind = kind;
	a->key = key;
	if ((a->kid = strdup(kid)) == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
		goto out;
	}
	if (key_fp != NULL) {
		authority_key_fp(&fp, key_fp, kind, kid);
		if (tl_hash_equal(&fp, &none))
			key_fp = NULL;
	}
	/* Checked and rendered before: the same key, kind and kid give the same line. */
	if (key_fp != NULL && bd_bundle__cache_get_key(&same, &a->jwk, &a->jwk_len, &fp) && a->jwk != NULL) {
		tl_sha256(&a->fp, a->jwk, a->jwk_len);
		goto done;
	}
	free(a->jwk);
	a->jwk = NULL;
	if ((err = bd_jwk__key_check(key)) != 0 || (err = authority_render(a)) != 0)
		goto out;
	if (key_fp != NULL)
		bd_bundle__cache_put_key(&fp, a->key, a->jwk, a->jwk_len);
done:
	*out = a;
	a = NULL;
out:
	EVP_PKEY_free(same);
	bd_bundle__authority_free(a);
	return err;
}

/* ---- the bundle ---- */

int bd_bundle_new(bd_bundle **out)
{
	if ((*out = calloc(1, sizeof(**out))) == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	return 0;
}

void bd_bundle_free(bd_bundle *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->n; i++)
		bd_bundle__authority_free(b->auth[i]);
	free(b->auth);
	free(b);
}

/* Room for one more authority. */
static int bundle_grow(bd_bundle *b)
{
	if (b->n >= BD_MAX_AUTHORITIES)
		return tl_error_set(TL_E_INPUT, "more than %u authorities", BD_MAX_AUTHORITIES);
	return tl_array_grow(&b->auth, &b->alloc, b->n + 1, sizeof(*b->auth), BD_MAX_AUTHORITIES);
}

int bd_bundle__push(bd_bundle *b, bd_authority *a)
{
	int err = bundle_grow(b);

	if (err) {
		bd_bundle__authority_free(a);
		return err;
	}
	b->auth[b->n++] = a;
	return 0;
}

/* Canonical order: kind (X.509, JWT, WIT), then fingerprint (X.509) or kid (JWT, WIT). */
static int canonical_cmp(const bd_authority *x, const bd_authority *y)
{
	int c;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->kind == BD_AUTHORITY_X509)
		return memcmp(x->fp.b, y->fp.b, TL_HASH_SIZE);
	c = strcmp(x->kid, y->kid);
	return c < 0 ? -1 : c > 0;
}

/* Ties broken by input position, so the first of two duplicates is the one kept in messages. */
static int sort_cmp(const void *pa, const void *pb)
{
	const bd_authority *x = *(const bd_authority *const *)pa, *y = *(const bd_authority *const *)pb;
	int c = canonical_cmp(x, y);

	if (c)
		return c;
	return x->origin < y->origin ? -1 : x->origin > y->origin;
}

static int kid_cmp(const void *pa, const void *pb)
{
	const bd_authority *x = *(const bd_authority *const *)pa, *y = *(const bd_authority *const *)pb;
	int c = strcmp(x->kid, y->kid);

	if (c)
		return c < 0 ? -1 : 1;
	return x->origin < y->origin ? -1 : x->origin > y->origin;
}

static int duplicate(const bd_bundle *b, const bd_authority *first, const bd_authority *again)
{
	char l1[64], l2[64], shown[BD_BUNDLE__SHOWN];

	bd_bundle__origin_label(l1, sizeof(l1), b->format, first->origin, first->kind);
	bd_bundle__origin_label(l2, sizeof(l2), b->format, again->origin, again->kind);
	if (again->kind == BD_AUTHORITY_X509)
		return tl_error_set(TL_E_INPUT, "%s: the same certificate as %s", l2, l1);
	return tl_error_set(TL_E_INPUT, "%s: kid \"%s\" is already used by %s (kids are unique across JWT and WIT keys)",
		l2, tl_text_printable(shown, sizeof(shown), again->kid, strlen(again->kid)), l1);
}

/* Sorts into canonical order and rejects duplicates (the same certificate twice, a kid used
 * twice among JWT and WIT keys), naming both entries. */
static int bundle_finish(bd_bundle *b)
{
	const bd_authority **keyed = NULL;
	size_t nk = 0;
	int err = 0;

	if (b->n > 1)
		qsort(b->auth, b->n, sizeof(*b->auth), sort_cmp);
	for (size_t i = 1; i < b->n; i++)
		if (b->auth[i]->kind == BD_AUTHORITY_X509 && canonical_cmp(b->auth[i - 1], b->auth[i]) == 0)
			return duplicate(b, b->auth[i - 1], b->auth[i]);
	/* WIT-SVID §6.1: a kid is unique across all keys of the bundle, JWT and WIT alike. */
	if ((keyed = malloc((b->n ? b->n : 1) * sizeof(*keyed))) == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	for (size_t i = 0; i < b->n; i++)
		if (b->auth[i]->kid)
			keyed[nk++] = b->auth[i];
	if (nk > 1)
		qsort(keyed, nk, sizeof(*keyed), kid_cmp);
	for (size_t i = 1; i < nk; i++)
		if (strcmp(keyed[i - 1]->kid, keyed[i]->kid) == 0) {
			err = duplicate(b, keyed[i - 1], keyed[i]);
			break;
		}
	free(keyed);
	return err;
}

int bd_bundle__check_input(const uint8_t *data, size_t len, unsigned flags)
{
	size_t i = 0;

	if (len > BD_MAX_BUNDLE_SIZE)
		return tl_error_set(TL_E_INPUT, "bundle of %zu bytes, over the limit of %u", len, BD_MAX_BUNDLE_SIZE);
	while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r'))
		i++;
	if (i == len && !(flags & BD_PARSE_ALLOW_EMPTY))
		return tl_error_set(TL_E_INPUT, "the input is %s: refused as a bundle that trusts nothing "
			"(an empty bundle must be asked for explicitly)", len == 0 ? "empty" : "only white space");
	return 0;
}

int bd_bundle__parse_done(bd_bundle *b, bd_bundle_report *report)
{
	int err = bundle_finish(b);

	if (err)
		return err;
	if (report)
		report->format = b->format;
	return bd_bundle_check_validity(report, b, (int64_t)time(NULL));
}

/* ---- validity ---- */

static int asn1_seconds(int64_t *out, const ASN1_TIME *t)
{
	struct tm tm;

	if (!ASN1_TIME_to_tm(t, &tm))
		return tl_error_set(TL_E_INPUT, "certificate has an unreadable validity time");
	*out = (int64_t)timegm(&tm);
	return 0;
}

bool bd_authority_validity(int64_t *not_before, int64_t *not_after, const bd_authority *a)
{
	if (a->kind != BD_AUTHORITY_X509)
		return false;
	return asn1_seconds(not_before, X509_get0_notBefore(a->cert)) == 0 &&
	       asn1_seconds(not_after, X509_get0_notAfter(a->cert)) == 0;
}

static void format_time(char *buf, size_t size, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "@%lld", (long long)t);
}

static void subject_line(char *buf, size_t size, X509 *cert)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p = NULL;
	long n;

	buf[0] = '\0';
	if (bio == NULL)
		return;
	/* RFC 2253 with the value bytes left raw, then one printable line: tl_text_printable
	 * escapes control and non-ASCII bytes alike, as in every other message. */
	if (X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0,
		    XN_FLAG_RFC2253 & ~(ASN1_STRFLGS_ESC_MSB | ASN1_STRFLGS_ESC_CTRL)) >= 0 &&
	    (n = BIO_get_mem_data(bio, &p)) > 0)
		tl_text_printable(buf, size, p, (size_t)n);
	BIO_free(bio);
	ERR_clear_error();
}

static int origin_cmp(const void *pa, const void *pb)
{
	const bd_authority *x = *(const bd_authority *const *)pa, *y = *(const bd_authority *const *)pb;

	return x->origin < y->origin ? -1 : x->origin > y->origin;
}

int bd_bundle_check_validity(bd_bundle_report *report, const bd_bundle *b, int64_t now)
{
	const bd_authority **certs = NULL;
	size_t n = 0;
	int err = 0;

	if (report == NULL || b->n == 0)
		return 0;
	/* Warnings in input order: that is how the person fixing the input reads them. */
	if ((certs = malloc(b->n * sizeof(*certs))) == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	for (size_t i = 0; i < b->n; i++)
		if (b->auth[i]->kind == BD_AUTHORITY_X509)
			certs[n++] = b->auth[i];
	qsort(certs, n, sizeof(*certs), origin_cmp);
	for (size_t i = 0; i < n && !err; i++) {
		const bd_authority *a = certs[i];
		char label[64], subject[160], when[40];
		int64_t nb, na;

		bd_bundle__origin_label(label, sizeof(label), b->format, a->origin, a->kind);
		subject_line(subject, sizeof(subject), a->cert);
		if (!bd_authority_validity(&nb, &na, a)) {
			err = bd_bundle__report_warn(report, "%s \"%s\": unreadable validity period", label, subject);
		} else if (na < now) {
			format_time(when, sizeof(when), na);
			err = bd_bundle__report_warn(report, "%s \"%s\": expired on %s", label, subject, when);
		} else if (nb > now) {
			format_time(when, sizeof(when), nb);
			err = bd_bundle__report_warn(report, "%s \"%s\": not valid before %s", label, subject, when);
		}
	}
	free(certs);
	return err;
}

/* ---- accessors and edits ---- */

bool bd_bundle_sequence(uint64_t *out, const bd_bundle *b)
{
	if (b->has_sequence)
		*out = b->sequence;
	return b->has_sequence;
}

bool bd_bundle_refresh_hint(uint64_t *out, const bd_bundle *b)
{
	if (b->has_refresh_hint)
		*out = b->refresh_hint;
	return b->has_refresh_hint;
}

void bd_bundle_set_sequence(bd_bundle *b, uint64_t sequence)
{
	b->has_sequence = true;
	b->sequence = sequence;
}

void bd_bundle_clear_sequence(bd_bundle *b)
{
	b->has_sequence = false;
	b->sequence = 0;
}

int bd_bundle_set_refresh_hint(bd_bundle *b, uint64_t seconds)
{
	if (seconds > BD_MAX_REFRESH_HINT)
		return tl_error_set(TL_E_INPUT, "refresh hint of %llu seconds, over the limit of %u",
			(unsigned long long)seconds, BD_MAX_REFRESH_HINT);
	b->has_refresh_hint = true;
	b->refresh_hint = seconds;
	return 0;
}

void bd_bundle_clear_refresh_hint(bd_bundle *b)
{
	b->has_refresh_hint = false;
	b->refresh_hint = 0;
}

bd_bundle_format bd_bundle_input_format(const bd_bundle *b)
{
	return b->format;
}

size_t bd_bundle_count(const bd_bundle *b)
{
	return b->n;
}

const bd_authority *bd_bundle_at(const bd_bundle *b, size_t i)
{
	return i < b->n ? b->auth[i] : NULL;
}

int bd_bundle_find(size_t *index, const bd_bundle *b, const tl_hash *fp)
{
	for (size_t i = 0; i < b->n; i++)
		if (tl_hash_equal(&b->auth[i]->fp, fp)) {
			*index = i;
			return 0;
		}
	return tl_error_set(TL_E_NOTFOUND, "no authority with that fingerprint in the bundle");
}

int bd_bundle_remove(bd_bundle *b, const tl_hash *fp)
{
	size_t i = 0;
	int err = bd_bundle_find(&i, b, fp);

	if (err)
		return err;
	bd_bundle__authority_free(b->auth[i]);
	memmove(b->auth + i, b->auth + i + 1, (b->n - i - 1) * sizeof(*b->auth));
	b->n--;
	return 0;
}

int bd_bundle_add_x509_der(bd_bundle *b, const uint8_t *der, size_t len)
{
	bd_authority *a = NULL;
	size_t lo = 0, hi = b->n, at = 0;
	int err;

	if ((err = bd_bundle__authority_from_der(&a, der, len)) != 0)
		goto out;
	a->origin = ORIGIN_ADDED;
	if (bd_bundle_find(&at, b, &a->fp) == 0) {
		err = tl_error_set(TL_E_CONFLICT, "the bundle already holds this certificate");
		goto out;
	}
	tl_error_clear();
	if ((err = bundle_grow(b)) != 0)
		goto out;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (canonical_cmp(b->auth[mid], a) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	memmove(b->auth + lo + 1, b->auth + lo, (b->n - lo) * sizeof(*b->auth));
	b->auth[lo] = a;
	b->n++;
	a = NULL;
out:
	bd_bundle__authority_free(a);
	return err;
}

bd_authority_kind bd_authority_get_kind(const bd_authority *a)
{
	return a->kind;
}

const tl_hash *bd_authority_fingerprint(const bd_authority *a)
{
	return &a->fp;
}

const char *bd_authority_kid(const bd_authority *a)
{
	return a->kid;
}

const uint8_t *bd_authority_cert_der(const bd_authority *a, size_t *len)
{
	if (a->kind != BD_AUTHORITY_X509)
		return NULL;
	*len = a->der_len;
	return a->der;
}

const char *bd_authority_jwk(const bd_authority *a, size_t *len)
{
	*len = a->jwk_len;
	return a->jwk;
}

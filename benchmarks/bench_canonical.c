/*
 * Canonicalisation throughput: parse + check + write the canonical SPIFFE bundle JSON.
 *
 *   certifi   one real CA bundle version (certifi 2026-07-21, ~230 KB PEM, 144 CAs), read
 *             from ../shared/research when present (or the path in $BENCH_CACERT)
 *   10 MB     a synthetic SPIFFE bundle of ~10 MB: self-signed P-256 CAs (~13,000)
 *
 * Baselines, on the same bytes: jansson alone (load + compact dump: the JSON floor), and
 * OpenSSL alone (PEM_read_bio_X509 or d2i_X509 of every certificate: the X.509 floor).
 * Prints the best of several runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "bundled/bundle.h"
#include "util/clock.h"
#include "util/file.h"
#include "util/synth.h"

#define RUNS 3

typedef int (*op_fn)(const uint8_t *data, size_t len, void *ctx);

/* Best seconds per call over RUNS runs of `reps` calls. */
static double best_of(op_fn op, const uint8_t *data, size_t len, void *ctx, int reps)
{
	double best = 1e9;

	for (int r = 0; r < RUNS; r++) {
		double t0 = bench_now_s();

		for (int i = 0; i < reps; i++)
			if (op(data, len, ctx) != 0) {
				fprintf(stderr, "bench: operation failed: %s\n", tl_error_message());
				exit(1);
			}
		if ((bench_now_s() - t0) / reps < best)
			best = (bench_now_s() - t0) / reps;
	}
	return best;
}

static int op_canonical(const uint8_t *data, size_t len, void *ctx)
{
	tl_buf out = tl_buf_make(BD_MAX_BUNDLE_SIZE);
	bd_bundle *b = NULL;
	int err = bd_bundle_parse(&b, data, len, 0, NULL);

	if (!err)
		err = bd_bundle_write_canonical(&out, b);
	if (ctx && !err)
		*(size_t *)ctx = out.len;
	tl_buf_free(&out);
	bd_bundle_free(b);
	return err;
}

static int op_jansson(const uint8_t *data, size_t len, void *ctx)
{
	json_error_t jerr;
	json_t *j = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, &jerr);
	char *s;

	(void)ctx;
	if (j == NULL)
		return -1;
	s = json_dumps(j, JSON_COMPACT);
	free(s);
	json_decref(j);
	return s ? 0 : -1;
}

static int op_openssl_pem(const uint8_t *data, size_t len, void *ctx)
{
	BIO *bio = BIO_new_mem_buf(data, (int)len);
	X509 *x;
	size_t n = 0;

	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		EVP_PKEY_free(X509_get_pubkey(x));
		X509_check_ca(x);
		X509_free(x);
		n++;
	}
	BIO_free(bio);
	if (ctx)
		*(size_t *)ctx = n;
	return n ? 0 : -1;
}

static int op_openssl_der(const uint8_t *data, size_t len, void *ctx)
{
	const struct bench_certs *d = ctx;

	(void)data;
	(void)len;
	for (size_t i = 0; i < d->n; i++) {
		const unsigned char *p = d->der[i];
		X509 *x = d2i_X509(NULL, &p, (long)d->len[i]);

		if (x == NULL)
			return -1;
		EVP_PKEY_free(X509_get_pubkey(x));
		X509_check_ca(x);
		X509_free(x);
	}
	return 0;
}

static void report(const char *what, size_t bytes, double s)
{
	printf("  %-44s %8.2f ms  %8.1f MB/s\n", what, s * 1e3, (double)bytes / s / 1e6);
}

static void bench_bundle(const char *title, const uint8_t *data, size_t len, struct bench_certs *ders, int reps)
{
	size_t out_len = 0, certs = 0;
	double s;

	printf("%s: %zu bytes in\n", title, len);
	s = best_of(op_canonical, data, len, &out_len, reps);
	report("bundled canonicalise (parse+check+write)", len, s);
	printf("  %-44s %zu bytes out\n", "", out_len);
	if (data[0] == '{') {
		report("baseline: jansson load+dump", len, best_of(op_jansson, data, len, NULL, reps));
	} else {
		s = best_of(op_openssl_pem, data, len, &certs, reps);
		report("baseline: OpenSSL PEM_read_bio_X509 loop", len, s);
	}
	if (ders)
		report("baseline: OpenSSL d2i_X509 of each cert", len, best_of(op_openssl_der, data, len, ders, reps));
}

int main(void)
{
	const char *cacert = getenv("BENCH_CACERT");
	uint8_t *pem = NULL;
	size_t pem_len = 0;
	tl_buf doc = tl_buf_make(BD_MAX_BUNDLE_SIZE), canon = tl_buf_make(BD_MAX_BUNDLE_SIZE);
	struct bench_certs ders = { 0 };
	bd_bundle *b = NULL;
	double t0;

	if (cacert == NULL)
		cacert = "../shared/research/cacert-history/037-2026-07-21.pem";
	if ((pem = bench_read_file(cacert, BD_MAX_BUNDLE_SIZE, &pem_len)) != NULL) {
		bd_bundle *cb = NULL;

		bench_bundle("certifi cacert.pem (PEM)", pem, pem_len, NULL, 10);
		if (bd_bundle_parse(&cb, pem, pem_len, 0, NULL) == 0 && bd_bundle_write_canonical(&canon, cb) == 0) {
			for (size_t i = 0; i < bd_bundle_count(cb); i++) {
				size_t l;
				const uint8_t *d = bd_authority_cert_der(bd_bundle_at(cb, i), &l);

				ders.der = realloc(ders.der, (i + 1) * sizeof(*ders.der));
				ders.len = realloc(ders.len, (i + 1) * sizeof(*ders.len));
				ders.der[i] = malloc(l);
				memcpy(ders.der[i], d, l);
				ders.len[i] = l;
				ders.n = i + 1;
			}
			bench_bundle("certifi, as canonical SPIFFE JSON", canon.data, canon.len, &ders, 10);
		}
		bd_bundle_free(cb);
		bench_certs_free(&ders);
		tl_buf_reset(&canon);
		free(pem);
	} else {
		printf("certifi: %s not found, skipped (set BENCH_CACERT)\n", cacert);
	}

	/* ~10 MB of P-256 CAs, read in one go from concatenated DER. */
	t0 = bench_now_s();
	if (bench_synth_cas(&ders, 10u * 1000 * 1000) != 0) {
		fprintf(stderr, "bench: cannot build the CAs\n");
		return 1;
	}
	for (size_t i = 0; i < ders.n; i++)
		if (tl_buf_append(&doc, ders.der[i], ders.len[i]) != 0)
			return 1;
	if (bd_bundle_parse_der(&b, doc.data, doc.len, 0, NULL) != 0) {
		fprintf(stderr, "bench: %s\n", tl_error_message());
		return 1;
	}
	tl_buf_reset(&doc);
	bd_bundle_set_sequence(b, 12345678901234567890ull);
	tl_buf_reset(&canon);
	if (bd_bundle_write_canonical(&canon, b) != 0 || tl_buf_append(&doc, canon.data, canon.len) != 0)
		return 1;
	printf("(built %zu synthetic CAs in %.1f s)\n", bd_bundle_count(b), bench_now_s() - t0);
	bench_bundle("10 MB synthetic SPIFFE bundle (JSON)", doc.data, doc.len, &ders, 1);
	tl_buf_reset(&doc);
	if (bd_bundle_write_pem(&doc, b) != 0)
		return 1;
	bench_bundle("the same authorities as PEM", doc.data, doc.len, &ders, 1);
	bench_certs_free(&ders);
	bd_bundle_free(b);
	tl_buf_free(&doc);
	tl_buf_free(&canon);
	return 0;
}

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "synth.h"

/* One self-signed CA certificate, DER, in a malloc'ed buffer. */
static int make_ca(uint8_t **der, size_t *len, int serial, EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	X509V3_CTX v3;
	X509_EXTENSION *ext = NULL;
	char cn[64];
	unsigned char *p = NULL;
	int n, ok = 0;

	snprintf(cn, sizeof(cn), "bench CA %d", serial);
	if (!key || !x || !name || !X509_set_version(x, 2) || !ASN1_INTEGER_set(X509_get_serialNumber(x), serial) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) ||
	    !X509_set_subject_name(x, name) || !X509_set_issuer_name(x, name) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), 0) || !X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365) ||
	    !X509_set_pubkey(x, key))
		goto out;
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, "critical,CA:TRUE")) == NULL ||
	    !X509_add_ext(x, ext, -1) || !X509_sign(x, key, EVP_sha256()))
		goto out;
	if ((n = i2d_X509(x, &p)) <= 0)
		goto out;
	/* Copied so that every list entry is freed the same way. */
	if ((*der = malloc((size_t)n)) == NULL)
		goto out;
	memcpy(*der, p, (size_t)n);
	*len = (size_t)n;
	ok = 1;
out:
	OPENSSL_free(p);
	X509_EXTENSION_free(ext);
	X509_NAME_free(name);
	X509_free(x);
	return ok ? 0 : -1;
}

int bench_synth_cas(struct bench_certs *out, size_t target)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	int rc = -1;

	if (key == NULL)
		goto out;
	for (size_t estimate = 0; estimate < target;) {
		uint8_t **der = realloc(out->der, (out->n + 1) * sizeof(*out->der));
		size_t *len;

		if (der == NULL)
			goto out;
		out->der = der;
		if ((len = realloc(out->len, (out->n + 1) * sizeof(*out->len))) == NULL)
			goto out;
		out->len = len;
		if (make_ca(&out->der[out->n], &out->len[out->n], (int)out->n + 1, key) != 0)
			goto out;
		estimate += (out->len[out->n] + 2) / 3 * 4 + 150;
		out->n++;
	}
	rc = 0;
out:
	EVP_PKEY_free(key);
	return rc;
}

void bench_certs_free(struct bench_certs *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->der[i]);
	free(c->der);
	free(c->len);
	memset(c, 0, sizeof(*c));
}

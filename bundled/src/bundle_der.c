/*
 * Concatenated DER certificates, the form the SPIFFE Workload API uses for X.509 bundles
 * (X509SVIDResponse.federated_bundles): the reader and the writer. Each certificate's
 * length comes from its own DER header, so no separator is needed.
 */
#include "bundle_internal.h"

/* The length of the DER element at p (tag, length, contents), or 0 if the header is not a
 * definite-length SEQUENCE that fits in `left` bytes. */
static size_t der_element_len(const uint8_t *p, size_t left)
{
	size_t len = 0, hdr = 2;

	if (left < 2 || p[0] != 0x30)
		return 0;
	if (p[1] < 0x80) {
		len = p[1];
	} else {
		size_t k = p[1] & 0x7f;

		/* Certificates are below BD_MAX_CERT_SIZE, so two length bytes suffice. */
		if (k == 0 || k > 2 || left < 2 + k)
			return 0;
		len = k == 1 ? p[2] : tl_load_u16be(p + 2);
		hdr += k;
	}
	return len <= left - hdr ? hdr + len : 0;
}

int bd_bundle_parse_der(bd_bundle **out, const uint8_t *data, size_t len, unsigned flags, bd_bundle_report *report)
{
	tl_cursor c = tl_cursor_make(data, len);
	bd_bundle *b = NULL;
	size_t count = 0;
	int err;

	*out = NULL;
	if ((err = bd_bundle__check_input(data, len, flags)) != 0)
		return err;
	if ((err = bd_bundle_new(&b)) != 0)
		return err;
	b->format = BD_FORMAT_DER;
	while (tl_cursor_left(&c) > 0) {
		size_t n = der_element_len(tl_cursor_here(&c), tl_cursor_left(&c));
		const uint8_t *cert;
		bd_authority *a = NULL;

		count++;
		if (n == 0) {
			err = tl_error_set(TL_E_INPUT, "DER certificate %zu (offset %zu): not a DER SEQUENCE within the input",
				count, c.pos);
			goto out;
		}
		if ((err = tl_cursor_take(&cert, &c, n)) != 0)
			goto out;
		if ((err = bd_bundle__authority_from_der(&a, cert, n)) != 0) {
			err = tl_error_wrap(err, "DER certificate %zu", count);
			goto out;
		}
		a->origin = count - 1;
		if ((err = bd_bundle__push(b, a)) != 0)
			goto out;
	}
	if ((err = bd_bundle__parse_done(b, report)) != 0)
		goto out;
	*out = b;
	b = NULL;
out:
	bd_bundle_free(b);
	return err;
}

int bd_bundle_write_der(tl_buf *out, const bd_bundle *b)
{
	size_t start = out->len;
	int err = 0;

	for (size_t i = 0; i < b->n && !err; i++)
		if (b->auth[i]->kind == BD_AUTHORITY_X509)
			err = tl_buf_append(out, b->auth[i]->der, b->auth[i]->der_len);
	if (err)
		tl_buf_truncate(out, start);
	return err;
}

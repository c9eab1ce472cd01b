/*
 * PEM bundles of CA certificates (RFC 7468 textual encoding): the reader and the writer.
 *
 * The reader takes files like certifi's cacert.pem: any text outside the blocks (comments,
 * labels, blank lines) is ignored, but every block must be a CERTIFICATE whose base64 body
 * (strict RFC 7468 stricttextualmsg: base64 lines only, no headers, no blank lines) decodes
 * to exactly one DER certificate. Lines may end in LF or CRLF; the last may lack its LF.
 */
#include "bundle_internal.h"

#include <stdlib.h>
#include <string.h>

#define BEGIN "-----BEGIN "
#define END "-----END "
#define DASHES "-----"
#define CERT_LABEL "CERTIFICATE"
/* The base64 text of the largest certificate accepted. */
#define MAX_CERT_B64 ((BD_MAX_CERT_SIZE + 2) / 3 * 4)

static bool starts_with(const uint8_t *line, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(line, prefix, n) == 0;
}

/* The next line, without its LF or CRLF and without trailing blanks. */
static int next_line(const uint8_t **line, size_t *len, tl_cursor *c, size_t lineno)
{
	const uint8_t *start = tl_cursor_here(c);
	size_t left = tl_cursor_left(c);
	size_t scan = left < BD_MAX_PEM_LINE + 2 ? left : BD_MAX_PEM_LINE + 2;
	const uint8_t *nl = memchr(start, '\n', scan);
	size_t n = nl ? (size_t)(nl - start) : scan;

	if (nl == NULL && scan < left)
		return tl_error_set(TL_E_INPUT, "line %zu: longer than %u bytes", lineno, BD_MAX_PEM_LINE);
	c->pos += nl ? n + 1 : n;
	while (n > 0 && (start[n - 1] == '\r' || start[n - 1] == ' ' || start[n - 1] == '\t'))
		n--;
	if (n > BD_MAX_PEM_LINE)
		return tl_error_set(TL_E_INPUT, "line %zu: longer than %u bytes", lineno, BD_MAX_PEM_LINE);
	*line = start;
	*len = n;
	return 0;
}

/* 1 for the bytes of a base64 line (A-Z a-z 0-9 + / =): one table load per byte, as every
 * publish of a PEM bundle scans a few hundred KB here. */
static const uint8_t base64_chars[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0,
	0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,
	0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

static bool is_base64_line(const uint8_t *line, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!base64_chars[line[i]])
			return false;
	return len > 0;
}

/* The label of a "-----BEGIN <label>-----" line, for messages. */
static void label_of(char *buf, size_t size, const uint8_t *line, size_t len)
{
	size_t n = len - strlen(BEGIN);

	if (n >= strlen(DASHES) && memcmp(line + len - strlen(DASHES), DASHES, strlen(DASHES)) == 0)
		n -= strlen(DASHES);
	tl_text_printable(buf, size, line + strlen(BEGIN), n);
}

static int block_done(bd_bundle *b, tl_buf *b64, size_t block, uint8_t *der)
{
	bd_authority *a = NULL;
	size_t der_len = 0;
	int err;

	if (b64->len == 0)
		return tl_error_set(TL_E_INPUT, "PEM block %zu: empty", block);
	if ((err = tl_base64_decode(der, BD_MAX_CERT_SIZE, &der_len, (const char *)b64->data, b64->len)) != 0)
		return tl_error_wrap(err, "PEM block %zu: bad base64", block);
	if ((err = bd_bundle__authority_from_der(&a, der, der_len)) != 0)
		return tl_error_wrap(err, "PEM block %zu", block);
	a->origin = block - 1;
	return bd_bundle__push(b, a);
}

int bd_bundle_parse_pem(bd_bundle **out, const uint8_t *data, size_t len, bd_bundle_report *report)
{
	tl_cursor c = tl_cursor_make(data, len);
	tl_buf b64 = tl_buf_make(MAX_CERT_B64);
	bd_bundle *b = NULL;
	uint8_t *der = NULL;
	size_t lineno = 0, block = 0;
	bool inside = false, text = false;
	int err = 0;

	*out = NULL;
	if (len > BD_MAX_BUNDLE_SIZE)
		return tl_error_set(TL_E_INPUT, "bundle of %zu bytes, over the limit of %u", len, BD_MAX_BUNDLE_SIZE);
	if ((err = bd_bundle_new(&b)) != 0)
		return err;
	b->format = BD_FORMAT_PEM;
	if ((der = malloc(BD_MAX_CERT_SIZE)) == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
		goto out;
	}
	while (tl_cursor_left(&c) > 0) {
		const uint8_t *line = NULL;
		size_t n = 0;

		if ((err = next_line(&line, &n, &c, ++lineno)) != 0)
			goto out;
		if (!inside) {
			if (starts_with(line, n, BEGIN)) {
				char label[40];

				block++;
				if (n != strlen(BEGIN CERT_LABEL DASHES) || !starts_with(line, n, BEGIN CERT_LABEL DASHES)) {
					label_of(label, sizeof(label), line, n);
					err = tl_error_set(TL_E_INPUT, "PEM block %zu (line %zu): \"%s\" block, only CERTIFICATE "
						"blocks are allowed", block, lineno, label);
					goto out;
				}
				inside = true;
				tl_buf_reset(&b64);
			} else if (starts_with(line, n, END)) {
				err = tl_error_set(TL_E_INPUT, "line %zu: END line outside a block", lineno);
				goto out;
			} else if (n > 0) {
				text = true;
			}
			continue;
		}
		if (starts_with(line, n, END)) {
			if (n != strlen(END CERT_LABEL DASHES) || !starts_with(line, n, END CERT_LABEL DASHES)) {
				err = tl_error_set(TL_E_INPUT, "PEM block %zu (line %zu): END line does not match BEGIN CERTIFICATE",
					block, lineno);
				goto out;
			}
			if ((err = block_done(b, &b64, block, der)) != 0)
				goto out;
			inside = false;
			continue;
		}
		if (!is_base64_line(line, n)) {
			err = tl_error_set(TL_E_INPUT, "PEM block %zu (line %zu): not a base64 line%s", block, lineno,
				n == 0 ? " (blank)" : memchr(line, ':', n) ? " (headers are not allowed)" : "");
			goto out;
		}
		if ((err = tl_buf_append(&b64, line, n)) != 0) {
			if (err == TL_E_INPUT)
				err = tl_error_set(TL_E_INPUT, "PEM block %zu: larger than the certificate limit of %u bytes",
					block, BD_MAX_CERT_SIZE);
			goto out;
		}
	}
	if (inside) {
		err = tl_error_set(TL_E_INPUT, "PEM block %zu: no END line", block);
		goto out;
	}
	if (block == 0 && text) {
		err = tl_error_set(TL_E_INPUT, "no PEM blocks found");
		goto out;
	}
	if ((err = bd_bundle__parse_done(b, report)) != 0)
		goto out;
	*out = b;
	b = NULL;
out:
	free(der);
	tl_buf_free(&b64);
	bd_bundle_free(b);
	return err;
}

int bd_bundle_write_pem(tl_buf *out, const bd_bundle *b)
{
	tl_buf b64 = tl_buf_make(MAX_CERT_B64);
	size_t start = out->len;
	int err = 0;

	for (size_t i = 0; i < b->n; i++) {
		const bd_authority *a = b->auth[i];

		if (a->kind != BD_AUTHORITY_X509)
			continue;
		tl_buf_reset(&b64);
		if ((err = tl_base64_encode(&b64, a->der, a->der_len)) != 0 ||
		    (err = tl_buf_append_str(out, BEGIN CERT_LABEL DASHES "\n")) != 0)
			goto out;
		for (size_t off = 0; off < b64.len; off += 64) {
			size_t n = b64.len - off < 64 ? b64.len - off : 64;

			if ((err = tl_buf_append(out, b64.data + off, n)) != 0 || (err = tl_buf_append_u8(out, '\n')) != 0)
				goto out;
		}
		if ((err = tl_buf_append_str(out, END CERT_LABEL DASHES "\n")) != 0)
			goto out;
	}
out:
	if (err)
		tl_buf_truncate(out, start);
	tl_buf_free(&b64);
	return err;
}

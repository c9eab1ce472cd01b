/*
 * A trustless gateway (IPFS HTTP Gateway, "trustless" profile) for single raw blocks:
 * GET /ipfs/<cid>?format=raw, or with "Accept: application/vnd.ipld.raw". The client checks
 * the bytes against the CID itself, so it need not trust us; we check them too, on the way
 * out of the block store.
 */
#include <stdlib.h>
#include <string.h>

#include "bundled/cid.h"
#include "daemon.h"
#include "routes.h"

#define RAW_TYPE "application/vnd.ipld.raw"

/* Whether an Accept header names the raw block type (among others, with parameters or not). */
static bool accepts_raw(const bd_httpd_field *accept)
{
	size_t n = strlen(RAW_TYPE);

	for (size_t i = 0; accept != NULL && i + n <= accept->value_len; i++)
		if (memcmp(accept->value + i, RAW_TYPE, n) == 0)
			return true;
	return false;
}

int route_ipfs_block(bd_httpd_response *res, const struct http_request *req, void *app)
{
	struct daemon *d = app;
	const char *text = req->path + strlen("/ipfs/");
	const char *format = http_query(req, "format");
	const bd_httpd_field *accept = bd_httpd_field_get(req->raw, "Accept");
	char canonical[BD_CID_TEXT_MAX];
	uint8_t *block = NULL;
	size_t len;
	bd_cid cid;
	int err;

	if (format != NULL ? strcmp(format, "raw") != 0 : !accepts_raw(accept))
		return tl_error_set(TL_E_INPUT, "only single raw blocks are served: ask with ?format=raw or Accept: %s",
			RAW_TYPE);
	if ((err = bd_cid_parse(&cid, text, strlen(text))) != 0)
		return err;
	if ((err = bd_blockstore_get(&block, &len, d->blocks, &cid)) != 0 ||
	    (err = bd_httpd_reply(res, 200, RAW_TYPE, block, len)) != 0 ||
	    (err = bd_cid_format(canonical, sizeof(canonical), &cid)) != 0 ||
	    (err = bd_httpd_add_header(res, "Cache-Control", "public, max-age=29030400, immutable")) != 0 ||
	    (err = bd_httpd_add_header(res, "X-Ipfs-Roots", "%s", canonical)) != 0)
		goto out;
	err = bd_httpd_add_header(res, "ETag", "\"%s.raw\"", canonical);
out:
	free(block);
	return err;
}

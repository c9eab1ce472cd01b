/*
 * A trustless gateway (IPFS HTTP Gateway, "trustless" profile) for single raw blocks:
 * GET /ipfs/<cid>?format=raw, or with "Accept: application/vnd.ipld.raw". The client checks
 * the bytes against the CID itself, so it need not trust us. Blocks were checked against their
 * CID on the way into the store, and RocksDB checksums what it reads (docs/storage.md,
 * "Read-time verification"); they are lent to the response from RocksDB's cache, uncopied.
 */
#include <stdio.h>
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
	char canonical[BD_CID_TEXT_MAX], etag[BD_CID_TEXT_MAX + 8];
	const uint8_t *block;
	void *pin;
	size_t len;
	bd_cid cid;
	bool done;
	int err;

	if (format != NULL ? strcmp(format, "raw") != 0 : !accepts_raw(accept))
		return tl_error_set(TL_E_INPUT, "only single raw blocks are served: ask with ?format=raw or Accept: %s",
			RAW_TYPE);
	if ((err = bd_cid_parse(&cid, text, strlen(text))) != 0 ||
	    (err = bd_cid_format(canonical, sizeof(canonical), &cid)) != 0)
		return err;
	/* A block is named by its hash, so the CID is its tag; a conditional request only asks
	 * whether the store has the block (an unknown CID is 404, never 304). The block is lent
	 * to the response where RocksDB holds it, not copied. */
	snprintf(etag, sizeof(etag), "\"%s.raw\"", canonical);
	if (bd_httpd_field_get(req->raw, "If-None-Match") != NULL && (err = bd_blockstore_has(d->blocks, &cid)) <= 0)
		return err < 0 ? err : tl_error_set(TL_E_NOTFOUND, "no block %s", canonical);
	if ((err = http_immutable(&done, res, req, etag, false)) != 0 || done)
		return err;
	if ((err = bd_httpd_add_header(res, "X-Ipfs-Roots", "%s", canonical)) != 0)
		return err;
	/* From a memory file, as entry bundles and versions are (http_file_reply: no RocksDB read
	 * on a hit, no copy by the daemon, sendfile where it pays and TLS allows); a block the
	 * file cache does not take is lent from RocksDB's block cache. */
	if (http_file_reply(res, d->files, canonical, RAW_TYPE, req->raw->tls))
		return 0;
	if ((err = bd_blockstore_get_pinned(&block, &len, &pin, d->blocks, &cid)) != 0)
		return err;
	if (http_file_reply_put(res, d->files, canonical, RAW_TYPE, block, len, req->raw->tls) == 0) {
		tl_db_release(pin);
		return 0;
	}
	tl_error_clear();
	return http_reply_pinned(res, RAW_TYPE, block, len, pin);
}

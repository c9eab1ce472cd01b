#include "versions.h"

#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "version_cache.h"

int version_load(uint64_t *index, tl_buf *text, bd_entry *e, struct daemon *d, const char *td, bool by_sequence,
	uint64_t sequence)
{
	bd_domain_state s;
	int err;

	if (by_sequence) {
		if ((err = bd_registry_version(index, d->registry, td, sequence)) != 0)
			return err;
	} else {
		if ((err = bd_registry_get(&s, d->registry, td)) != 0)
			return err;
		if (!s.has_version)
			return tl_error_set(TL_E_NOTFOUND, "%s has published no version yet", td);
		*index = s.version_index;
	}
	if ((err = tl_log_entry(text, d->log, *index)) != 0 || (err = bd_entry_parse(e, text->data, text->len)) != 0)
		return tl_error_wrap(err, "entry %llu", (unsigned long long)*index);
	return 0;
}

/* The bytes of the DAG under `cid` (a logged version's, so missing blocks are TL_E_INTERNAL). */
static int cat_version(tl_buf *out, struct daemon *d, const char *cid_text, const char *td, uint64_t sequence)
{
	bd_cid cid;
	int err;

	if ((err = bd_cid_parse(&cid, cid_text, strlen(cid_text))) != 0 ||
	    (err = bd_blockstore_cat(out, d->blocks, &cid)) != 0)
		return tl_error_wrap(err == TL_E_NOTFOUND ? TL_E_INTERNAL : err, "version %llu of %s",
			(unsigned long long)sequence, td);
	return 0;
}

int version_bytes(tl_buf *out, struct daemon *d, const bd_entry *e)
{
	return cat_version(out, d, e->cid, e->domain, e->sequence);
}

int version_find(struct watch_event *out, struct daemon *d, const char *td, bool by_sequence, uint64_t sequence)
{
	uint64_t applied = bd_registry_applied(d->registry), index;
	bd_entry *e = NULL;
	tl_buf text = tl_buf_make(BD_ENTRY_MAX_SIZE + 1);
	int err;

	/* `applied` is read before the registry: what this finds is kept as newest only until
	 * the next commit moves it (version_cache.h). */
	if (by_sequence ? version_cache_get(out, d->versions, td, sequence) :
			  version_cache_newest(out, d->versions, td, applied))
		return 0;
	if ((e = malloc(sizeof(*e))) == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
		goto out;
	}
	if ((err = version_load(&index, &text, e, d, td, by_sequence, sequence)) != 0)
		goto out;
	if (e->kind != BD_ENTRY_BUNDLE) {
		err = tl_error_set(TL_E_INTERNAL, "registry: entry %llu of %s is not a version", (unsigned long long)index, td);
		goto out;
	}
	watch_event_from_entry(out, e, index, 0);
	version_cache_put(d->versions, out, !by_sequence, applied);
out:
	free(e);
	tl_buf_free(&text);
	return err;
}

int version_reply(bd_httpd_response *res, struct daemon *d, const struct watch_event *v, bool tls)
{
	static const char type[] = "application/json";
	char key[HTTP_FILE_MAX_KEY + 1];
	tl_buf bytes = tl_buf_make(BD_MAX_BUNDLE_SIZE);
	int err = 0;

	if (strlen(VERSION_FILE_PREFIX) + strlen(v->cid) >= sizeof(key))
		return tl_error_set(TL_E_INTERNAL, "CID %s too long for the file cache", v->cid);
	memcpy(key, VERSION_FILE_PREFIX, strlen(VERSION_FILE_PREFIX));
	memcpy(key + strlen(VERSION_FILE_PREFIX), v->cid, strlen(v->cid) + 1);
	if (http_file_reply(res, d->files, key, type, tls))
		goto out;
	if ((err = cat_version(&bytes, d, v->cid, v->domain, v->sequence)) != 0)
		goto out;
	if (http_file_reply_put(res, d->files, key, type, bytes.data, bytes.len, tls) != 0) {
		tl_error_clear();
		err = bd_httpd_reply(res, 200, type, bytes.data, bytes.len);
	}
out:
	tl_buf_free(&bytes);
	return err;
}

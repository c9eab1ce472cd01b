#include "versions.h"

#include <string.h>

#include "daemon.h"

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

int version_bytes(tl_buf *out, struct daemon *d, const bd_entry *e)
{
	bd_cid cid;
	int err;

	if ((err = bd_cid_parse(&cid, e->cid, strlen(e->cid))) != 0 || (err = bd_blockstore_cat(out, d->blocks, &cid)) != 0)
		return tl_error_wrap(err == TL_E_NOTFOUND ? TL_E_INTERNAL : err, "version %llu of %s",
			(unsigned long long)e->sequence, e->domain);
	return 0;
}

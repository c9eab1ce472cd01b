#include "bundled/version.h"

#include <string.h>

#include "bundled/chunker.h"
#include "bundled/dag.h"
#include "translog/hash.h"

int bd_version_entry(bd_entry *e, tl_buf *canonical, const bd_bundle *b, const char *domain, const char *chunker,
	uint64_t time)
{
	size_t start = canonical->len, n = strlen(domain);
	uint64_t hint = 0;
	bd_chunker ch;
	bd_dag *dag = NULL;
	int err;

	memset(e, 0, sizeof(*e));
	if (n == 0 || n > BD_MAX_DOMAIN)
		return tl_error_set(TL_E_INPUT, "a domain name has 1 to %u bytes", BD_MAX_DOMAIN);
	e->kind = BD_ENTRY_BUNDLE;
	memcpy(e->domain, domain, n + 1);
	if (!bd_bundle_sequence(&e->sequence, b))
		return tl_error_set(TL_E_INPUT, "the bundle has no sequence");
	if (bd_bundle_refresh_hint(&hint, b))
		e->refresh_hint = hint;
	if ((err = bd_chunker_parse(&ch, chunker != NULL ? chunker : "lines")) != 0 ||
	    (err = bd_bundle_write_canonical(canonical, b)) != 0 ||
	    (err = bd_dag_build(&dag, canonical->data + start, canonical->len - start, &ch)) != 0 ||
	    (err = bd_cid_format(e->cid, sizeof(e->cid), bd_dag_root(dag))) != 0)
		goto out;
	e->size = canonical->len - start;
	tl_sha256(&e->sha256, canonical->data + start, canonical->len - start);
	e->time = time;
out:
	bd_dag_free(dag);
	return err;
}

/*
 * A bundle version's fields of an entry (sequence, refresh hint, size, SHA-256, CID),
 * derived from a bundle: what a publisher computes before signing and what the server
 * re-derives from the submitted bundle to compare, so both sides share one derivation.
 */
#include "bundled/entry.h"

#include <string.h>

#include "bundled/bundle.h"
#include "bundled/dag.h"

int bd_entry_set_version(bd_entry *e, tl_buf *canon, bd_dag **dag, bd_bundle *b, uint64_t sequence,
	uint64_t refresh_hint, const bd_chunker *chunker)
{
	tl_buf own = tl_buf_make(BD_MAX_BUNDLE_SIZE), *out = canon != NULL ? canon : &own;
	size_t start = out->len;
	bd_dag *d = NULL;
	int err;

	if (dag != NULL)
		*dag = NULL;
	if (bd_bundle_count(b) == 0)
		return tl_error_set(TL_E_INPUT, "the bundle has no authorities");
	bd_bundle_set_sequence(b, sequence);
	if (refresh_hint == 0)
		bd_bundle_clear_refresh_hint(b);
	else if ((err = bd_bundle_set_refresh_hint(b, refresh_hint)) != 0)
		return err;
	if ((err = bd_bundle_write_canonical(out, b)) != 0)
		goto out;
	if ((err = bd_dag_build(&d, out->data + start, out->len - start, chunker)) != 0 ||
		(err = bd_cid_format(e->cid, sizeof(e->cid), bd_dag_root(d))) != 0)
		goto out;
	e->sequence = sequence;
	e->refresh_hint = refresh_hint;
	e->size = out->len - start;
	tl_sha256(&e->sha256, out->data + start, out->len - start);
	if (dag != NULL) {
		*dag = d;
		d = NULL;
	}
out:
	if (err != 0 && canon != NULL)
		tl_buf_truncate(canon, start);
	bd_dag_free(d);
	tl_buf_free(&own);
	return err;
}

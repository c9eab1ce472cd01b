/*
 * The auditor's entry-bundle reader and the entry checks behind it: an entry bundle comes from
 * the server being audited, so no bundle may crash the auditor, and the checks must keep
 * their own invariants (findings counted, state bounded) whatever the entries say. The log's
 * origin is "example.org/log", the one of docs/formats.md's examples, so the seed corpus's
 * signatures verify.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../bundled/src/audit_internal.h"
#include "translog/bytes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct audit_state st;
	static struct audit_pre pre; /* a few KiB: not on the stack */
	bd_audit_options opts;
	bd_audit_report rep;
	struct audit a;
	tl_cursor cur = tl_cursor_make(data, size);
	const uint8_t *entry;
	size_t len, n = 0;

	memset(&st, 0, sizeof(st));
	memset(&opts, 0, sizeof(opts));
	memset(&rep, 0, sizeof(rep));
	memset(&a, 0, sizeof(a));
	a.opts = &opts;
	a.origin = "example.org/log";
	a.st = &st;
	a.rep = &rep;
	while (tl_cursor_left(&cur) != 0 && audit_bundle_next(&entry, &len, &cur) == 0) {
		if (entry < data || entry + len > data + size)
			abort();
		/* The pool's part, then the in-order part, as audit.c runs them (one entry per
		 * "bundle" here, so the precheck sees the state the entries before made). */
		pre.text = entry;
		pre.len = len;
		audit_entry_precheck(&a, &pre);
		if (audit_entry_check(&a, n++, &pre) != 0)
			break;
		if (st.n_kept > st.n_findings || st.n_kept > BD_AUDIT_MAX_FINDINGS || st.domains.n > st.domains.cap)
			abort();
	}
	if (n > size / 2 + 1)
		abort();
	audit_state_free(&st);
	return 0;
}

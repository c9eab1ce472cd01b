/*
 * The auditor's findings and its entry bundle reader: the pieces every other part of the
 * auditor uses (see audit_internal.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "audit_internal.h"
#include "translog/bytes.h"

static const char *const kind_names[] = {
	[BD_AUDIT_FORK] = "fork",
	[BD_AUDIT_ROOT] = "root",
	[BD_AUDIT_TILE] = "tile",
	[BD_AUDIT_GRAMMAR] = "grammar",
	[BD_AUDIT_SIGNATURE] = "signature",
	[BD_AUDIT_DOMAIN] = "domain",
	[BD_AUDIT_SEQUENCE] = "sequence",
	[BD_AUDIT_REVOCATION] = "revocation",
	[BD_AUDIT_CONTENT] = "content",
};

const char *bd_audit_kind_name(bd_audit_kind kind)
{
	if ((size_t)kind >= sizeof(kind_names) / sizeof(kind_names[0]) || kind_names[kind] == NULL)
		return "unknown";
	return kind_names[kind];
}

void audit_finding(struct audit_state *st, bd_audit_kind kind, uint64_t index, const char *fmt, ...)
{
	bd_audit_finding *f;
	va_list ap;

	st->n_findings++;
	if (st->n_kept == BD_AUDIT_MAX_FINDINGS)
		return;
	f = &st->findings[st->n_kept++];
	f->kind = kind;
	f->index = index;
	va_start(ap, fmt);
	vsnprintf(f->message, sizeof(f->message), fmt, ap);
	va_end(ap);
	/* One line each in the state file and in any output. */
	for (char *p = f->message; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e)
			*p = '?';
}

int audit_bundle_next(const uint8_t **entry, size_t *len, tl_cursor *cur)
{
	uint16_t n;

	if (tl_cursor_u16be(&n, cur) != 0 || tl_cursor_take(entry, cur, n) != 0)
		return tl_error_set(TL_E_INPUT, "entry bundle: truncated entry");
	*len = n;
	return 0;
}

#include "committed.h"

#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "diff_cache.h"
#include "logging.h"

void committed_version(struct daemon *d, const struct watch_event *ev)
{
	/* Readers of the domain's newest version see this one from now on, before the publisher
	 * is answered: it is the newest while the registry has applied up to it and no further
	 * (a later commit makes readers look again). Then diffs: an agent woken by the event
	 * finds them made or being made. */
	if (d->versions != NULL)
		version_cache_put(d->versions, ev, true, ev->index + 1);
	if (d->diffs != NULL)
		diff_cache_published(d->diffs, ev->domain, ev->sequence);
	if (d->watch != NULL)
		watch_hub_publish(d->watch, ev);
}

/* Reads leaf `index` into *e; *parsed says whether it is an entry the registry can read (one
 * it cannot is the registry's to skip: no version). Fails only when the log cannot be read. */
static int entry_at(bd_entry *e, bool *parsed, struct daemon *d, uint64_t index)
{
	tl_buf text = tl_buf_make(BD_ENTRY_MAX_SIZE);
	int err = tl_log_entry(&text, d->log, index);

	*parsed = err == 0 && bd_entry_parse(e, text.data, text.len) == 0;
	tl_buf_free(&text);
	return err;
}

int committed_event_at(struct watch_event *ev, bool *is_version, struct daemon *d, uint64_t index, uint64_t tree_size)
{
	bd_entry *e = malloc(sizeof(*e));
	bool parsed;
	int err;

	*is_version = false;
	if (e == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
		goto out;
	}
	if ((err = entry_at(e, &parsed, d, index)) != 0 || !parsed || e->kind != BD_ENTRY_BUNDLE)
		goto out;
	watch_event_from_entry(ev, e, index, tree_size);
	*is_version = true;
	/* A revocation and the version it makes are logged together, revocation first. */
	if (index > 0 && entry_at(e, &parsed, d, index - 1) == 0 && parsed && e->kind == BD_ENTRY_REVOCATION &&
	    strcmp(e->domain, ev->domain) == 0) {
		ev->revocation = true;
		ev->revocation_index = index - 1;
	}
out:
	free(e);
	return err;
}

void committed_entries(struct daemon *d, uint64_t first, uint64_t n, uint64_t tree_size)
{
	struct watch_event ev;
	bool is_version;

	for (uint64_t i = first; i < first + n; i++) {
		if (committed_event_at(&ev, &is_version, d, i, tree_size) != 0) {
			log_at(LOG_WARN, "a committed entry could not be read back: its watchers miss it",
				"index=%llu error=\"%s\"", (unsigned long long)i, tl_error_message());
			continue;
		}
		if (is_version)
			committed_version(d, &ev);
	}
}

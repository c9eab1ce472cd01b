/*
 * The git mirror of a log (libgit2): a bare repository in which each log entry is one
 * commit, in log order, on refs/heads/main (HEAD), so that a plain `git clone` holds the
 * log's history and `git log --reverse` lists it in order.
 *
 *   tree     domains/<td>/bundle.json   the canonical bytes of the domain's newest version
 *            checkpoint                 a signed checkpoint of the log that covers the entry
 *                                       (the log's newest when the commit was made)
 *   message  "<kind> <td>[ <sequence>] (log entry <index>)", a blank line, the entry's text
 *            exactly as logged, a blank line, and the trailer "Log-Index: <index>"
 *   author   "bundled" <origin>, at the entry's own time; committer the same
 *   tags     <td>/<sequence> for every version, on its commit (lightweight)
 *
 * The mirror runs behind the log (bd_gitmirror_start: a thread of its own that polls the
 * log's size, so appends never wait for it) and knows where it is from the repository alone
 * (the Log-Index of HEAD), so after a restart it catches up from there. A batch of entries
 * becomes a chain of commits and one update of the branch: a crash in between leaves only
 * unreferenced objects, and the entries are mirrored again.
 *
 * bd_gitmirror_audit checks a clone against a log read through the tlog-tiles follower
 * (every entry proven against a verified checkpoint): same entries, in the same order, with
 * every version's bytes hashing to what its entry commits to and its tag on its commit.
 */
#ifndef BUNDLED_GITMIRROR_H
#define BUNDLED_GITMIRROR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bundled/blockstore.h"
#include "translog/error.h"
#include "translog/follow.h"
#include "translog/log.h"

/* Entries one batch commits at most before it moves the branch. */
#define BD_GITMIRROR_BATCH 1024

typedef struct bd_gitmirror bd_gitmirror;

typedef struct bd_gitmirror_options {
	const char *dir;       /* the bare repository (created if absent) */
	tl_log *log;
	bd_blockstore *blocks; /* every version's blocks */
	unsigned interval_ms;  /* the thread's poll of the log's size; 0: 200 */
} bd_gitmirror_options;

typedef struct bd_gitmirror_status {
	uint64_t position;   /* entries mirrored: the next log index to commit */
	uint64_t failures;   /* batches that failed (retried) */
	char error[256];     /* the last failure ("" after a success) */
} bd_gitmirror_status;

/* Opens (or creates) the repository and finds its position. TL_E_CONFLICT if it holds a
 * history that is not this log's (another origin, or a Log-Index past the log's size). */
int bd_gitmirror_open(bd_gitmirror **out, const bd_gitmirror_options *opts) TL_MUST_USE;

/* Commits entries from the position up to the log's current size, in batches; 0 when done. */
int bd_gitmirror_sync(bd_gitmirror *g) TL_MUST_USE;

/* Runs bd_gitmirror_sync on a thread of its own until bd_gitmirror_stop. */
int bd_gitmirror_start(bd_gitmirror *g) TL_MUST_USE;
void bd_gitmirror_stop(bd_gitmirror *g);

void bd_gitmirror_get_status(bd_gitmirror_status *out, bd_gitmirror *g);
void bd_gitmirror_close(bd_gitmirror *g);

/* What bd_gitmirror_audit found. */
typedef struct bd_gitmirror_report {
	uint64_t commits;      /* commits on the clone's HEAD */
	uint64_t log_size;     /* the verified checkpoint's size */
	uint64_t checked;      /* entries compared */
	uint64_t versions;     /* versions whose bytes and tag were checked */
	uint64_t mismatches;   /* findings; the first is in `first` */
	char first[512];
} bd_gitmirror_report;

/* Checks the clone (bare or not) at `dir` against the log behind `cfg` (the checkpoint is
 * fetched and verified with cfg's key): the clone's commits, in order, must carry the log's
 * entries 0, 1, ... with their indices, byte for byte; each version's bundle.json must have
 * the size and SHA-256 its entry commits to, and the tag <td>/<sequence> must name its
 * commit; a clone may be behind the log (commits < log_size) but not ahead of it or apart
 * from it. 0 when the check ran (see rep->mismatches), or a tl_err if it could not run. */
int bd_gitmirror_audit(bd_gitmirror_report *rep, const char *dir, const tl_follow_config *cfg) TL_MUST_USE;

#endif

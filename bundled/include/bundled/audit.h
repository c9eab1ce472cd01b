/*
 * The auditor: replays a bundled log from the outside and checks everything the log operator
 * could get wrong or lie about, trusting only the log's key (and, if configured, a witness
 * quorum). `bundlectl audit` is a thin shell around bd_audit_run.
 *
 * One run:
 *   1. fetches the checkpoint, verifies its signature (and cosignature quorum) and proves it
 *      consistent with the last checkpoint a previous run verified (tl_follow_update). A log
 *      that contradicts itself is a fork: both signed notes and the consistency proof from the
 *      new tree are written to DIR/evidence/<n>-{old,new}.checkpoint and <n>-consistency.proof
 *      (the files `bundlectl verify-consistency` takes; it rejects them, which is the point)
 *      with a <n>-fork.txt saying what disagrees;
 *   2. reads every entry not audited yet from entry bundles ("tile/entries/...", never the
 *      proof endpoints), appends its leaf hash to the tree it keeps (a frontier and the
 *      rightmost tile of every level: O(log n) state), compares every hash tile the server
 *      serves with the one it computed (each full tile once, as it completes, and the partial
 *      tiles of the checkpoint's size at the end), and the root with the checkpoint's;
 *   3. checks every entry (audit_entries.c): grammar and canonical form, publisher signatures
 *      against each domain's keys as the log itself records them, sequences strictly
 *      increasing per domain, revocations that match the version logged right after them, and,
 *      with a block source, each version's bytes fetched by CID (size, SHA-256, CID, canonical
 *      form, and for a revocation: the previous version minus the revoked authority).
 *
 * Findings are collected, not fatal. The state (DIR/state) is written atomically after every
 * chunk of entries, so an interrupted run resumes where the last chunk ended and reports the
 * same findings as an uninterrupted one.
 */
#ifndef BUNDLED_AUDIT_H
#define BUNDLED_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bundled/client.h"
#include "bundled/evidence.h"
#include "translog/checkpoint.h"
#include "translog/error.h"
#include "translog/follow.h"

#define BD_AUDIT_MAX_MESSAGE 240
/* Findings kept (and persisted); past this only the count grows. */
#define BD_AUDIT_MAX_FINDINGS 1000
/* Entries between two state saves unless the options say otherwise (a multiple of 256). */
#define BD_AUDIT_DEFAULT_CHUNK 65536u
/* Domains the auditor tracks (each costs a few KiB with its keys). */
#define BD_AUDIT_MAX_DOMAINS (1u << 20)

typedef enum bd_audit_kind {
	BD_AUDIT_FORK = 1,  /* two signed checkpoints that cannot both hold */
	BD_AUDIT_ROOT,      /* the entries do not hash to the checkpoint's root */
	BD_AUDIT_TILE,      /* a served hash tile differs from the one the entries give */
	BD_AUDIT_GRAMMAR,   /* an entry is not in the grammar, or not in its canonical form */
	BD_AUDIT_SIGNATURE, /* a publisher signature by no key the domain holds, or invalid */
	BD_AUDIT_DOMAIN,    /* a registration or key change that is not a valid step */
	BD_AUDIT_SEQUENCE,  /* a version whose sequence does not increase, or of no domain */
	BD_AUDIT_REVOCATION,/* a revocation without its version, or a version it does not give */
	BD_AUDIT_CONTENT,   /* a version's bytes (by CID) differ from what the entry says */
} bd_audit_kind;

typedef struct bd_audit_finding {
	bd_audit_kind kind;
	uint64_t index; /* the leaf index concerned, or the tree size for tree-wide findings */
	char message[BD_AUDIT_MAX_MESSAGE];
} bd_audit_finding;

/* "fork", "root", ...: stable names for JSON. */
const char *bd_audit_kind_name(bd_audit_kind kind);

typedef struct bd_audit_options {
	tl_follow_config follow;   /* transport (tile paths and "checkpoint"), log key, witnesses */
	const char *state_dir;     /* created if missing (mode 0700) */
	bd_client *blocks;         /* NULL: versions are not fetched; else their blocks' source */
	bool tree_only;            /* check the tree and tiles only, not what the entries say; a
	                            * state directory keeps the mode of its first run (another
	                            * mode is TL_E_INPUT) */
	uint64_t chunk;            /* entries between state saves; 0: BD_AUDIT_DEFAULT_CHUNK */
	uint64_t max_entries;      /* stop after about this many new entries (rounded up to a
	                            * chunk); 0: read up to the checkpoint */
	/* Called after each entry bundle (may be NULL): entries audited so far in this run,
	 * and how many this run has to read in all. */
	void (*progress)(void *ctx, uint64_t done, uint64_t total);
	void *progress_ctx;
	/* Threads checking entries (grammar, canonical form, signatures) in parallel, the
	 * caller's included; findings and state stay in log order. 0: one per online CPU. */
	unsigned threads;
} bd_audit_options;

typedef struct bd_audit_report {
	tl_checkpoint checkpoint;  /* the checkpoint verified by this run */
	uint64_t start;            /* entries audited before this run */
	uint64_t audited;          /* entries audited in all (== checkpoint.size when complete) */
	uint64_t checked;          /* entries read in this run */
	uint64_t tiles_checked;    /* served hash tiles compared in this run */
	uint64_t versions_fetched; /* versions fetched by CID in this run */
	bool complete;             /* audited == checkpoint.size */
	size_t n_findings;         /* all findings so far (this and earlier runs) */
	size_t n_kept;             /* of which the first n_kept are in `findings` */
	bd_audit_finding *findings;
	char evidence[BD_EVIDENCE_FILES][BD_EVIDENCE_PATH_MAX]; /* fork evidence files written by this run, n_evidence of them */
	size_t n_evidence;
} bd_audit_report;

/*
 * Runs one audit. 0 when the audit ran (findings or not: see rep->n_findings); a negative
 * tl_err when it could not (the server unreachable, a checkpoint that does not verify, the
 * state directory unusable): then the state is as the last completed chunk left it, and a
 * new run resumes from there. A fork is a finding (0), with its evidence, and the stored
 * checkpoint stays the old one.
 */
int bd_audit_run(bd_audit_report *rep, const bd_audit_options *opts) TL_MUST_USE;
void bd_audit_report_free(bd_audit_report *rep);

#endif

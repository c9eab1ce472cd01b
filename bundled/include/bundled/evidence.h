/*
 * Fork evidence on disk: what a third party needs to see that a log contradicted itself,
 * written by whoever caught it (the auditor, a read replica). Four files, each new (an
 * existing file is never overwritten):
 *
 *   <dir>/<prefix>-old.checkpoint     the signed checkpoint verified before
 *   <dir>/<prefix>-new.checkpoint     the signed checkpoint that contradicts it
 *   <dir>/<prefix>-consistency.proof  the proof the new tree's tiles give (base64 lines),
 *                                     empty for a rollback
 *   <dir>/<prefix>-fork.txt           what happened, in words, and the command that checks it:
 *                                     bundlectl verify-consistency --vkey VKEY old new proof
 */
#ifndef BUNDLED_EVIDENCE_H
#define BUNDLED_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

#include "translog/bytes.h"
#include "translog/error.h"
#include "translog/follow.h"

#define BD_EVIDENCE_FILES 4
#define BD_EVIDENCE_PATH_MAX 4200

/* Writes the four files into `dir` (created, mode 0700, if absent). paths[i] get the files'
 * names as they are written, *n how many were (all of them on success). TL_E_IO naming the
 * file that could not be written. */
int bd_evidence_write(char (*paths)[BD_EVIDENCE_PATH_MAX], size_t *n, const char *dir, const char *prefix,
	const uint8_t *old_note, size_t old_len, const uint8_t *new_note, size_t new_len,
	const tl_follow_fork *fork) TL_MUST_USE;

#endif

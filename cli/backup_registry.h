/*
 * The registry check of a backup (backup_registry.c), one of the checks bundlectl admin
 * backup and verify-backup run on a copy: the bundle registry stored in the copy must be the
 * one its log rebuilds.
 */
#ifndef BUNDLECTL_BACKUP_REGISTRY_H
#define BUNDLECTL_BACKUP_REGISTRY_H

#include <stdint.h>

#include "translog/error.h"
#include "translog/hash.h"
#include "translog/key.h"

/* Checks the database in `db_path` (not written) whose log verifies under `vkey`: *domains
 * the registry holds and its digest. TL_E_INPUT when the stored registry differs from the
 * rebuilt one or cannot be opened over the log (a finding); other errors for the check
 * itself failing (no scratch space, ...). */
int backup_check_registry(uint64_t *domains, tl_hash *digest, const char *db_path, const tl_verifier *vkey)
	TL_MUST_USE;

#endif

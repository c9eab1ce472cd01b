/*
 * "Registry rebuildable" (docs/operations.md, "Backup and restore"): the registry is derived
 * state, so a restored backup must hold exactly the registry its log rebuilds, or the
 * restored daemon would answer from facts the log does not back. Rebuilding writes, and the
 * copy under check is open read-only (and must stay as it is), so the check takes one more
 * copy into a scratch directory (tl_db_backup), opens the log there with the verifier key as
 * a replica (nothing is signed), digests the registry as stored (after bd_registry_open has
 * applied entries it may lag behind, as any restart would), rebuilds it from the log, and
 * digests it again: the digests must be equal. The scratch copy is removed in every case.
 */
#include "backup_registry.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundled/registry.h"
#include "translog/db.h"
#include "translog/log.h"

#define SCRATCH_PATH_MAX 4096

static int count_domain(void *ctx, const bd_domain_state *d)
{
	(void)d;
	(*(uint64_t *)ctx)++;
	return 0;
}

/* The stored registry against the rebuilt one, in the scratch copy `path`. */
static int compare(uint64_t *domains, tl_hash *digest, const char *path, const tl_verifier *vkey)
{
	const char *cfs[TL_LOG_COLUMN_FAMILY_COUNT + 1];
	char stored_hex[2 * TL_HASH_SIZE + 1], rebuilt_hex[2 * TL_HASH_SIZE + 1];
	tl_db *db = NULL;
	tl_log *log = NULL;
	bd_registry *r = NULL;
	tl_hash stored;
	int err;

	for (size_t i = 0; i < TL_LOG_COLUMN_FAMILY_COUNT; i++)
		cfs[i] = tl_log_column_families[i];
	cfs[TL_LOG_COLUMN_FAMILY_COUNT] = BD_REGISTRY_COLUMN_FAMILY;
	if ((err = tl_db_open(&db, path, cfs, TL_LOG_COLUMN_FAMILY_COUNT + 1)) != 0 ||
	    (err = tl_log_open_replica(&log, db, vkey, NULL)) != 0)
		goto out;
	if ((err = bd_registry_open(&r, db, log)) != 0) {
		err = tl_error_wrap(err == TL_E_NOMEM ? err : TL_E_INPUT, "the stored registry cannot be opened over the log");
		goto out;
	}
	if ((err = bd_registry_digest(&stored, r)) != 0 || (err = bd_registry_rebuild(r, log)) != 0 ||
	    (err = bd_registry_digest(digest, r)) != 0)
		goto out;
	if (memcmp(stored.b, digest->b, TL_HASH_SIZE) != 0) {
		tl_hex_encode(stored_hex, stored.b, TL_HASH_SIZE);
		tl_hex_encode(rebuilt_hex, digest->b, TL_HASH_SIZE);
		err = tl_error_set(TL_E_INPUT,
			"the stored registry is not the one the log rebuilds (digest %s, rebuilt %s): restore it "
			"and run bundled --rebuild-index, or take the backup again",
			stored_hex, rebuilt_hex);
		goto out;
	}
	*domains = 0;
	err = bd_registry_list(r, count_domain, domains);
out:
	bd_registry_close(r);
	tl_log_close(log);
	tl_db_close(db);
	return err;
}

int backup_check_registry(uint64_t *domains, tl_hash *digest, const char *db_path, const tl_verifier *vkey)
{
	const char *tmp = getenv("TMPDIR");
	char dir[SCRATCH_PATH_MAX], copy[SCRATCH_PATH_MAX + 16], secondary[SCRATCH_PATH_MAX + 16];
	int err, rm;

	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	if ((size_t)snprintf(dir, sizeof(dir), "%s/bundlectl-registry-XXXXXX", tmp) >= sizeof(dir))
		return tl_error_set(TL_E_INPUT, "TMPDIR %s is too long", tmp);
	if (mkdtemp(dir) == NULL)
		return tl_error_set(TL_E_IO, "creating a scratch directory in %s: %s", tmp, strerror(errno));
	snprintf(copy, sizeof(copy), "%s/db", dir);
	snprintf(secondary, sizeof(secondary), "%s/secondary", dir);
	if ((err = tl_db_backup(copy, db_path, secondary)) == 0)
		err = compare(domains, digest, copy, vkey);
	if (access(copy, F_OK) == 0 && (rm = tl_db_remove(copy)) != 0 && err == 0)
		err = rm;
	if (rmdir(dir) != 0 && err == 0)
		err = tl_error_set(TL_E_IO, "removing the scratch directory %s: %s", dir, strerror(errno));
	return err;
}

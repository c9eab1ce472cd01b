/*
 * bundlectl admin backup and admin verify-backup (docs/operations.md, "Backup and restore").
 *
 * A backup is a directory:
 *   db/          a copy of the data directory's database, taken while the daemon runs
 *                (tl_db_backup) and checked before it is kept
 *   checkpoint   the signed checkpoint the copy's log ends with
 *   log.vkey     the log's verifier key (public)
 *   log.key      only with --include-key: the log's private key, mode 0600
 *
 * Both commands run the same checks on the copy, one function per store in `checks` below:
 * the log (signature, entries, tiles), the blocks (each hash-correct) and the registry (the
 * one the log rebuilds, backup_registry.c). A new store adds its check there, and both
 * commands then check it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin.h"
#include "backup_registry.h"
#include "bundled/blockstore.h"
#include "cli.h"
#include "opt.h"
#include "translog/db.h"
#include "translog/log.h"
#include "translog/note.h"
#include "verify_keys.h"

#define CMD_BACKUP "admin backup"
#define CMD_VERIFY "admin verify-backup"
/* A copy can, rarely, miss writes the daemon made while it was taken (see tl_db_backup);
 * the checks notice and the copy is taken again, at most this many times in all. */
#define BACKUP_ATTEMPTS 3
#define BACKUP_PATH_MAX 4096

/* What the checks share: the copy, the key it is checked with, and what they found. */
struct backup_state {
	tl_db *db;
	const char *db_path;
	const tl_verifier *vkey;
	tl_checkpoint cp;
	tl_buf note;
	uint64_t blocks, block_bytes;
	uint64_t domains;
	tl_hash registry_digest;
};

static int check_log(struct backup_state *st)
{
	tl_buf_reset(&st->note);
	return tl_log_verify_stored(&st->cp, &st->note, st->db, st->vkey);
}

static int check_blocks(struct backup_state *st)
{
	bd_blockstore *bs = NULL;
	int err;

	if ((err = bd_blockstore_open(&bs, st->db)) != 0)
		return tl_error_set(TL_E_INPUT, "no block store in this database");
	err = bd_blockstore_check(&st->blocks, &st->block_bytes, bs);
	bd_blockstore_close(bs);
	return err;
}

static int check_registry(struct backup_state *st)
{
	return backup_check_registry(&st->domains, &st->registry_digest, st->db_path, st->vkey);
}

static const struct {
	const char *name;
	int (*run)(struct backup_state *st);
} checks[] = {
	{ "log", check_log },
	{ "blocks", check_blocks },
	{ "registry", check_registry },
};

/* Opens the copy in `db_path` read-only and runs every check on it. */
static int check_copy(struct backup_state *st, const char *db_path)
{
	int err;

	if ((err = tl_db_open_read_only(&st->db, db_path)) != 0)
		return err;
	st->db_path = db_path;
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
		if ((err = checks[i].run(st)) != 0)
			return tl_error_wrap(err, "%s", checks[i].name);
	return 0;
}

static void backup_state_close(struct backup_state *st)
{
	tl_db_close(st->db);
	st->db = NULL;
}

static int path_join(char out[BACKUP_PATH_MAX], const char *dir, const char *name)
{
	if ((size_t)snprintf(out, BACKUP_PATH_MAX, "%s/%s", dir, name) >= BACKUP_PATH_MAX)
		return tl_error_set(TL_E_INPUT, "path %s/%s is too long", dir, name);
	return 0;
}

/* Writes a new file (never overwriting one) with `mode`, durably. */
static int write_new_file(const char *path, const void *data, size_t len, mode_t mode)
{
	const uint8_t *p = data;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode), err = 0;

	if (fd < 0)
		return tl_error_set(TL_E_IO, "%s: %s", path, strerror(errno));
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = tl_error_set(TL_E_IO, "writing %s: %s", path, strerror(errno));
			goto out;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) != 0)
		err = tl_error_set(TL_E_IO, "syncing %s: %s", path, strerror(errno));
out:
	close(fd);
	return err;
}

static int vkey_text(tl_buf *out, const tl_verifier *v)
{
	tl_buf_reset(out);
	return tl_verifier_format(out, v);
}

#define BACKUP_USAGE \
	"usage: bundlectl " CMD_BACKUP " --data DIR --out DIR [--log-key FILE | --vkey VKEY | --vkey-file PATH]\n" \
	"       [--include-key]\n"

static const char backup_help[] = BACKUP_USAGE
	"\n"
	"Copies the database of the data directory --data (DIR/db) into a new backup directory\n"
	"--out, while the daemon keeps running and writing: a consistent snapshot, as a crash at\n"
	"that instant would have left it. The copy is checked (the whole log against its signed\n"
	"checkpoint, every block against its hash) before the command succeeds, and taken again\n"
	"(at most 3 times in all) if a concurrent write made it inconsistent.\n"
	"\n"
	"  --log-key FILE  the log's private key, to learn its verifier key (default DIR/log.key)\n"
	"  --vkey VKEY, --vkey-file PATH\n"
	"                  the log's verifier key instead (when the private key is not readable,\n"
	"                  e.g. in an HSM)\n"
	"  --include-key   also copy the private key into the backup (mode 0600). By default it\n"
	"                  is left out: back it up separately, offline (docs/operations.md)\n"
	"\n"
	"The backup holds db/, checkpoint, log.vkey (and log.key with --include-key).\n"
	"exit status: 0 written, 1 the data directory failed the checks, 2 usage or I/O error\n";

/* The verifier key from --vkey/--vkey-file, else from the private key file. */
static int backup_vkey(tl_verifier **out, tl_signer **signer, struct cli_keys *keys, const char *log_key)
{
	int err;

	if (keys->vkey != NULL || keys->vkey_file != NULL) {
		if ((err = cli_keys_load(keys, CMD_BACKUP)) != CLI_OK)
			return err;
		*out = keys->log_key;
		return CLI_OK;
	}
	if ((err = tl_signer_load(signer, log_key)) != 0 || (err = tl_verifier_from_signer(&keys->log_key, *signer)) != 0)
		return cli_fail(CMD_BACKUP, err);
	*out = keys->log_key;
	return CLI_OK;
}

/* Takes the copy into out/db, again if the checks find it inconsistent. */
static int take_copy(struct backup_state *st, const char *data, const char *out)
{
	char src[BACKUP_PATH_MAX], dst[BACKUP_PATH_MAX], scratch[BACKUP_PATH_MAX];
	int err = 0;

	if ((err = path_join(src, data, "db")) != 0 || (err = path_join(dst, out, "db")) != 0 ||
	    (err = path_join(scratch, out, ".secondary")) != 0)
		return err;
	for (int attempt = 1; attempt <= BACKUP_ATTEMPTS; attempt++) {
		if ((err = tl_db_backup(dst, src, scratch)) != 0)
			return err;
		if ((err = check_copy(st, dst)) == 0)
			return 0;
		backup_state_close(st);
		if (err != TL_E_INPUT || attempt == BACKUP_ATTEMPTS)
			break;
		cli_error(CMD_BACKUP, "the copy is inconsistent (%s); taking it again",
			tl_error_message());
		if ((err = tl_db_remove(dst)) != 0)
			return err;
	}
	{
		char msg[512];
		int rm;

		snprintf(msg, sizeof(msg), "%s", tl_error_message());
		rm = tl_db_remove(dst);
		return tl_error_set(err, "%s%s", msg, rm != 0 ? " (and the copy could not be removed)" : "");
	}
}

/* vkey is the verifier key's text with a final newline. The private key goes through
 * tl_signer_save: mode 0600, never over an existing file, no copy of it left in memory here. */
static int write_backup_files(const struct backup_state *st, const char *out, const tl_buf *vkey,
	const tl_signer *signer, int include_key)
{
	char path[BACKUP_PATH_MAX];
	int err;

	if ((err = path_join(path, out, "checkpoint")) != 0 ||
	    (err = write_new_file(path, st->note.data, st->note.len, 0644)) != 0 ||
	    (err = path_join(path, out, "log.vkey")) != 0 || (err = write_new_file(path, vkey->data, vkey->len, 0644)) != 0)
		return err;
	if (include_key && ((err = path_join(path, out, "log.key")) != 0 || (err = tl_signer_save(signer, path)) != 0))
		return err;
	return 0;
}

int cli_admin_backup(int argc, char **argv)
{
	const char *data = NULL, *out = NULL, *log_key = NULL;
	int include_key = 0, rc, err;
	struct cli_keys keys = { 0 };
	const struct cli_opt opts[] = {
		CLI_OPT_VALUE("data", &data),
		CLI_OPT_VALUE("out", &out),
		CLI_OPT_VALUE("log-key", &log_key),
		CLI_KEYS_LOG_OPTS(&keys),
		CLI_OPT_FLAG("include-key", &include_key),
	};
	const struct cli_cmd_spec spec = CLI_SPEC(CMD_BACKUP, BACKUP_USAGE, backup_help, opts, 0, 0, "");
	char key_path[BACKUP_PATH_MAX];
	struct backup_state st = { .note = tl_buf_make(TL_NOTE_MAX_SIZE) };
	tl_buf vkey = tl_buf_make(TL_MAX_KEY_TEXT);
	tl_signer *signer = NULL;
	tl_verifier *v = NULL;
	size_t n_args;
	int made_out = 0;

	if ((rc = cli_opt_parse(NULL, &n_args, &spec, argc, argv)) != CLI_OK)
		return cli_opt_exit(rc);
	if (data == NULL || out == NULL)
		return cli_opt_usage_error(&spec, "--data and --out are required");
	if ((keys.vkey != NULL) + (keys.vkey_file != NULL) + (log_key != NULL) > 1)
		return cli_opt_usage_error(&spec, "give at most one of --log-key, --vkey and --vkey-file");
	if (include_key && (keys.vkey != NULL || keys.vkey_file != NULL))
		return cli_opt_usage_error(&spec, "--include-key copies the private key: give --log-key, not a verifier key");
	if (log_key == NULL) {
		if ((err = path_join(key_path, data, "log.key")) != 0)
			return cli_fail(CMD_BACKUP, err);
		log_key = key_path;
	}
	if ((rc = backup_vkey(&v, &signer, &keys, log_key)) != CLI_OK)
		goto out;
	if ((err = vkey_text(&vkey, v)) != 0 || (err = tl_buf_append(&vkey, "\n", 1)) != 0) {
		rc = cli_fail(CMD_BACKUP, err);
		goto out;
	}
	if (mkdir(out, 0700) != 0) {
		cli_error(CMD_BACKUP, "creating %s: %s", out, strerror(errno));
		rc = CLI_USAGE;
		goto out;
	}
	made_out = 1;
	st.vkey = v;
	if ((err = take_copy(&st, data, out)) != 0 || (err = write_backup_files(&st, out, &vkey, signer, include_key)) != 0) {
		rc = cli_fail(CMD_BACKUP, err);
		goto out;
	}
	printf("backup %s: log %s size %" PRIu64 ", %" PRIu64 " blocks (%" PRIu64 " bytes)\n", out, st.cp.origin,
		st.cp.size, st.blocks, st.block_bytes);
	printf("%s\n", include_key ? "the log's private key is in the backup (log.key, mode 0600): store it as a secret" :
				     "the log's private key is NOT in the backup: keep its own backup, offline");
	rc = fflush(stdout) == 0 ? CLI_OK : CLI_USAGE;
out:
	backup_state_close(&st);
	if (rc != CLI_OK && made_out) {
		/* Nothing half-written stays behind (the copy itself is removed by take_copy). */
		char path[BACKUP_PATH_MAX];
		static const char *const files[] = { "checkpoint", "log.vkey", "log.key" };

		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
			if (path_join(path, out, files[i]) == 0)
				(void)unlink(path);
		if (path_join(path, out, "db") == 0 && access(path, F_OK) == 0 && tl_db_remove(path) != 0)
			cli_error(CMD_BACKUP, "%s", tl_error_message());
		(void)rmdir(out);
	}
	tl_buf_free(&st.note);
	tl_buf_free(&vkey);
	tl_signer_free(signer);
	cli_keys_free(&keys);
	return rc;
}

#define VERIFY_USAGE "usage: bundlectl " CMD_VERIFY " [--vkey VKEY | --vkey-file PATH] DIR\n"

static const char verify_help[] = VERIFY_USAGE
	"\n"
	"Checks the backup directory DIR made by 'bundlectl admin backup', without changing it:\n"
	"  log      the stored checkpoint verifies under the log's key; the tree recomputed from\n"
	"           every entry has its size and root; every stored tile is the recomputed one;\n"
	"           no tile or entry is missing or beyond the checkpoint; DIR/checkpoint is it\n"
	"  blocks   every block in the block store hashes to its key\n"
	"  registry the stored domain registry is the one rebuilt from the log (rebuilt in a\n"
	"           scratch copy under $TMPDIR, removed afterwards)\n"
	"  key      if DIR/log.key is there: mode 0600 and the same key as DIR/log.vkey\n"
	"\n"
	"  --vkey VKEY, --vkey-file PATH\n"
	"           the log's verifier key, pinned. Without it DIR/log.vkey is used, which only\n"
	"           proves the backup agrees with itself; with it, DIR/log.vkey must match.\n"
	"\n"
	"Prints one line per check and \"ok\" when every check passes.\n"
	"exit status: 0 valid, 1 invalid (the reason on stderr), 2 usage or I/O error\n";

static int invalid(const char *path, const char *what)
{
	return tl_error_set(TL_E_INPUT, "%s %s", path, what);
}

/* The key to check with: the pinned one (which DIR/log.vkey must then match) or DIR/log.vkey. */
static int verify_vkey(struct cli_keys *keys, const char *dir, int *rc)
{
	char path[BACKUP_PATH_MAX];
	uint8_t *text = NULL;
	size_t len = 0;
	tl_verifier *stored = NULL;
	tl_buf a = tl_buf_make(TL_MAX_KEY_TEXT), b = tl_buf_make(TL_MAX_KEY_TEXT);
	int err = 0;

	*rc = CLI_OK;
	if (keys->vkey != NULL || keys->vkey_file != NULL) {
		if ((*rc = cli_keys_load(keys, CMD_VERIFY)) != CLI_OK)
			goto out;
	}
	if ((err = path_join(path, dir, "log.vkey")) != 0)
		goto out;
	if (access(path, F_OK) != 0 && keys->log_key != NULL)
		goto out; /* pinned, and the backup has no key of its own to compare */
	if ((*rc = cli_read_file(&text, &len, path, TL_MAX_KEY_TEXT)) != CLI_OK)
		goto out;
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	if ((err = tl_verifier_parse(&stored, (const char *)text, len)) != 0) {
		err = tl_error_wrap(TL_E_INPUT, "%s", path);
		goto out;
	}
	if (keys->log_key == NULL) {
		keys->log_key = stored;
		stored = NULL;
		goto out;
	}
	if ((err = vkey_text(&a, stored)) != 0 || (err = vkey_text(&b, keys->log_key)) != 0)
		goto out;
	if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
		err = invalid(path, "is not the given verifier key: the backup belongs to another log");
out:
	tl_verifier_free(stored);
	free(text);
	tl_buf_free(&a);
	tl_buf_free(&b);
	return err;
}

/* DIR/checkpoint, if there, is the checkpoint the copy's log ends with. */
static int verify_checkpoint_file(const struct backup_state *st, const char *dir, int *rc)
{
	char path[BACKUP_PATH_MAX];
	uint8_t *text = NULL;
	size_t len = 0;
	int err;

	*rc = CLI_OK;
	if ((err = path_join(path, dir, "checkpoint")) != 0 || access(path, F_OK) != 0)
		return err;
	if ((*rc = cli_read_file(&text, &len, path, TL_NOTE_MAX_SIZE)) != CLI_OK)
		return 0;
	if (len != st->note.len || memcmp(text, st->note.data, len) != 0)
		err = invalid(path, "is not the checkpoint stored in the backup's log");
	free(text);
	return err;
}

/* DIR/log.key, if there: private to its owner, and the key the log is signed with. */
static int verify_key_file(int *present, const tl_verifier *v, const char *dir)
{
	char path[BACKUP_PATH_MAX];
	struct stat sb;
	tl_signer *s = NULL;
	tl_verifier *sv = NULL;
	tl_buf a = tl_buf_make(TL_MAX_KEY_TEXT), b = tl_buf_make(TL_MAX_KEY_TEXT);
	int err;

	*present = 0;
	if ((err = path_join(path, dir, "log.key")) != 0 || stat(path, &sb) != 0)
		goto out;
	*present = 1;
	if ((sb.st_mode & 077) != 0) {
		err = invalid(path, "can be read by others than its owner (want mode 0600)");
		goto out;
	}
	if ((err = tl_signer_load(&s, path)) != 0 || (err = tl_verifier_from_signer(&sv, s)) != 0 ||
	    (err = vkey_text(&a, sv)) != 0 || (err = vkey_text(&b, v)) != 0)
		goto out;
	if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
		err = invalid(path, "is not the private key of the log's verifier key");
out:
	tl_verifier_free(sv);
	tl_signer_free(s);
	tl_buf_free(&a);
	tl_buf_free(&b);
	return err;
}

int cli_admin_verify_backup(int argc, char **argv)
{
	const char *dir = NULL;
	struct cli_keys keys = { 0 };
	const struct cli_opt opts[] = { CLI_KEYS_LOG_OPTS(&keys) };
	const struct cli_cmd_spec spec = CLI_SPEC(CMD_VERIFY, VERIFY_USAGE, verify_help, opts, 1, 1, "DIR");
	struct backup_state st = { .note = tl_buf_make(TL_NOTE_MAX_SIZE) };
	char db_path[BACKUP_PATH_MAX], digest[2 * TL_HASH_SIZE + 1];
	size_t n_args;
	int rc, err, key_present = 0;

	if ((rc = cli_opt_parse(&dir, &n_args, &spec, argc, argv)) != CLI_OK)
		return cli_opt_exit(rc);
	if (keys.vkey != NULL && keys.vkey_file != NULL)
		return cli_opt_usage_error(&spec, "give at most one of --vkey and --vkey-file");
	if ((err = verify_vkey(&keys, dir, &rc)) != 0 || rc != CLI_OK)
		goto fail;
	st.vkey = keys.log_key;
	if ((err = path_join(db_path, dir, "db")) != 0 || (err = check_copy(&st, db_path)) != 0 ||
	    (err = verify_checkpoint_file(&st, dir, &rc)) != 0 || rc != CLI_OK ||
	    (err = verify_key_file(&key_present, st.vkey, dir)) != 0) {
		err = rc == CLI_OK ? tl_error_wrap(err, "%s", err == TL_E_INPUT ? "backup" : "reading the backup") : err;
		goto fail;
	}
	printf("log: %s size %" PRIu64 ": checkpoint signature, every entry and tile check\n", st.cp.origin, st.cp.size);
	printf("blocks: %" PRIu64 " blocks (%" PRIu64 " bytes), every one hash-correct\n", st.blocks, st.block_bytes);
	tl_hex_encode(digest, st.registry_digest.b, TL_HASH_SIZE);
	printf("registry: %" PRIu64 " domains, the one the log rebuilds (digest %s)\n", st.domains, digest);
	printf("key: %s\n", key_present ? "log.key is the log's key, mode 0600" : "not in the backup (kept separately)");
	printf("ok\n");
	rc = fflush(stdout) == 0 ? CLI_OK : CLI_USAGE;
	goto out;
fail:
	if (rc == CLI_OK)
		rc = cli_fail(CMD_VERIFY, err);
out:
	backup_state_close(&st);
	tl_buf_free(&st.note);
	cli_keys_free(&keys);
	return rc;
}

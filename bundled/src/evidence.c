/* Fork evidence files: see bundled/evidence.h. */
#include "bundled/evidence.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "translog/text.h"

static int write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wx");
	int ok;

	if (f == NULL)
		return tl_error_set(TL_E_IO, "%s: %s", path, strerror(errno));
	ok = fwrite(data, 1, len, f) == len;
	ok = fclose(f) == 0 && ok;
	return ok ? 0 : tl_error_set(TL_E_IO, "%s: cannot write", path);
}

int bd_evidence_write(char (*paths)[BD_EVIDENCE_PATH_MAX], size_t *n, const char *dir, const char *prefix,
	const uint8_t *old_note, size_t old_len, const uint8_t *new_note, size_t new_len, const tl_follow_fork *fork)
{
	tl_buf proof = { 0 }, text = { 0 };
	char root_old[65], root_new[65], prefix_root[65];
	int err = 0;

	*n = 0;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return tl_error_set(TL_E_IO, "%s: %s", dir, strerror(errno));
	for (size_t i = 0; i < fork->n_proof && err == 0; i++) {
		err = tl_base64_encode(&proof, fork->proof[i].b, TL_HASH_SIZE);
		if (err == 0)
			err = tl_buf_append_u8(&proof, '\n');
	}
	tl_hex_encode(root_old, fork->old.root.b, TL_HASH_SIZE);
	tl_hex_encode(root_new, fork->new.root.b, TL_HASH_SIZE);
	tl_hex_encode(prefix_root, fork->prefix_root.b, TL_HASH_SIZE);
	if (err == 0)
		err = tl_buf_printf(&text,
			"log %s %s\nold checkpoint: size %" PRIu64 " root %s\nnew checkpoint: size %" PRIu64 " root %s\n%s%s%s"
			"check: bundlectl verify-consistency --vkey VKEY old.checkpoint new.checkpoint consistency.proof\n",
			fork->old.origin, fork->rollback ? "rolled back" : "forked", fork->old.size, root_old, fork->new.size,
			root_new, fork->rollback ? "" : "the new tree's tiles give the root at the old size: ",
			fork->rollback ? "" : prefix_root, fork->rollback ? "" : "\n");
	const struct {
		const char *name;
		const void *data;
		size_t len;
	} files[BD_EVIDENCE_FILES] = {
		{ "old.checkpoint", old_note, old_len },
		{ "new.checkpoint", new_note, new_len },
		{ "consistency.proof", proof.data, proof.len },
		{ "fork.txt", text.data, text.len },
	};
	for (size_t i = 0; i < BD_EVIDENCE_FILES && err == 0; i++) {
		char *path = paths[*n];

		snprintf(path, BD_EVIDENCE_PATH_MAX, "%s/%s-%s", dir, prefix, files[i].name);
		if ((err = write_file(path, files[i].data != NULL ? files[i].data : "", files[i].len)) == 0)
			(*n)++;
	}
	tl_buf_free(&proof);
	tl_buf_free(&text);
	return err;
}

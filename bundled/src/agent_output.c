/* What the agent writes besides its state (bundled/agent.h): the output files in their
 * formats, the --on-update hook, and a fork's evidence. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_internal.h"
#include "bundled/bundle.h"
#include "bundled/evidence.h"
#include "bundled/file.h"
#include "translog/file.h"

int agent_mkdir(const char *path)
{
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return tl_error_set(TL_E_IO, "creating %s: %s", path, strerror(errno));
	return 0;
}

/* Where domain i's output goes. */
void agent_out_path(char *path, size_t cap, const bd_agent_options *o, size_t i)
{
	static const char *const ext[] = { "json", "pem", "der" };

	if (o->n_domains == 1)
		snprintf(path, cap, "%s", o->out);
	else
		snprintf(path, cap, "%s/%s.%s", o->out, o->domains[i], ext[o->format]);
}

/* The output file's bytes for canonical bytes `canon`, in the configured format. */
static int render(tl_buf *out, const bd_agent_options *o, const uint8_t *canon, size_t len)
{
	bd_bundle *b = NULL;
	int err;

	if (o->format == BD_AGENT_FORMAT_SPIFFE)
		return tl_buf_append(out, canon, len);
	if ((err = bd_bundle_parse(&b, canon, len, 0, NULL)) == 0)
		err = o->format == BD_AGENT_FORMAT_PEM ? bd_bundle_write_pem(out, b) : bd_bundle_write_der(out, b);
	bd_bundle_free(b);
	return err;
}

/* Makes domain i's output file hold `canon` rendered, unless it does already. */
int agent_write_output(bool *changed, const bd_agent_options *o, size_t i, const uint8_t *canon, size_t len)
{
	char path[BD_FILE_MAX_PATH];
	tl_buf want = tl_buf_make(4 * (size_t)BD_MAX_BUNDLE_SIZE), have = tl_buf_make(4 * (size_t)BD_MAX_BUNDLE_SIZE);
	int err;

	*changed = false;
	agent_out_path(path, sizeof(path), o, i);
	if ((err = render(&want, o, canon, len)) != 0)
		goto out;
	if (tl_file_read(&have, path) == 0 && have.len == want.len && memcmp(have.data, want.data, want.len) == 0)
		goto out;
	if ((err = bd_file_publish(path, want.data, want.len, 0644)) == 0)
		*changed = true;
out:
	tl_buf_free(&want);
	tl_buf_free(&have);
	return err;
}

int agent_run_hook(const bd_agent_options *o, size_t i, uint64_t sequence)
{
	char path[BD_FILE_MAX_PATH], seq[24];
	pid_t pid;
	int status;

	if (o->on_update == NULL)
		return 0;
	agent_out_path(path, sizeof(path), o, i);
	snprintf(seq, sizeof(seq), "%" PRIu64, sequence);
	if ((pid = fork()) == 0) {
		setenv("BUNDLED_DOMAIN", o->domains[i], 1);
		setenv("BUNDLED_SEQUENCE", seq, 1);
		setenv("BUNDLED_FILE", path, 1);
		execl("/bin/sh", "sh", "-c", o->on_update, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int agent_save_evidence(char *where, size_t cap, const bd_agent_options *o, const struct agent_state *st,
	const struct agent_update *u, const bd_diff_response *r)
{
	char dir[BD_FILE_MAX_PATH], path[BD_FILE_MAX_PATH + 64], prefix[24];
	char (*paths)[BD_EVIDENCE_PATH_MAX] = calloc(BD_EVIDENCE_FILES, BD_EVIDENCE_PATH_MAX);
	tl_follow_fork fork = u->evidence;
	struct stat sb;
	uint64_t n = 1;
	size_t written;
	int err;

	if (paths == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	snprintf(dir, sizeof(dir), "%s/" AGENT_EVIDENCE_DIR, o->state_dir);
	for (;; n++) { /* the first free number: evidence is never overwritten */
		snprintf(path, sizeof(path), "%s/%" PRIu64 "-fork.txt", dir, n);
		if (stat(path, &sb) != 0)
			break;
	}
	/* Two roots for one size: the new tree's root at the old size is its own. */
	if (fork.new.size == fork.old.size)
		fork.prefix_root = fork.new.root;
	snprintf(prefix, sizeof(prefix), "%" PRIu64, n);
	if ((err = bd_evidence_write(paths, &written, dir, prefix, st->note.data, st->note.len, r->checkpoint,
		     r->checkpoint_len, &fork)) == 0)
		snprintf(where, cap, "%s/%" PRIu64 "-*", dir, n);
	free(paths);
	return err;
}

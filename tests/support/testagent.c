#include "testagent.h"

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"
#include "translog/key.h"

void tu_world_start(struct tu_world *w, const char *const *domains, size_t n, const char *log_key,
	const char *publisher)
{
	struct tu_output o = { 0 };
	tl_buf vkey = tl_buf_make(sizeof(w->vkey));
	tl_signer *k;

	memset(w, 0, sizeof(*w));
	w->dir = tu_mkdtemp();
	snprintf(w->data, sizeof(w->data), "%s/data", w->dir);
	snprintf(w->key, sizeof(w->key), "%s/publisher.key", w->dir);
	if (log_key != NULL) {
		ck_assert_int_eq(mkdir(w->data, 0700), 0);
		ck_assert_int_eq(tu_system("cp '%s' '%s/log.key'", log_key, w->data), 0);
	}
	ck_assert_int_eq(tu_daemon_start(&w->d, w->data, NULL), 0);
	if (publisher != NULL)
		ck_assert_int_eq(tu_system("cp '%s' '%s'", publisher, w->key), 0);
	else
		ck_assert_int_eq(tu_run(&o, w->dir, "bundlectl", "keygen --name publisher.agent.test --out '%s'", w->key), 0);
	ck_assert_int_eq(tl_signer_load(&k, w->key), 0);
	ck_assert_int_eq(tl_signer_vkey(&vkey, k), 0);
	snprintf(w->vkey, sizeof(w->vkey), "%.*s", (int)vkey.len, (const char *)vkey.data);
	tl_signer_free(k);
	tl_buf_free(&vkey);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(tu_run(&o, w->dir, "bundlectl",
				      "domain register --server %s --operator-token '%s/operator.token' --domain %s "
				      "--publisher-key '%s'",
				      w->d.base_url, w->data, domains[i], w->vkey) == 0,
			"register %s: %s", domains[i], o.err);
	tu_output_free(&o);
	tu_history_load(&w->h, 64);
}

void tu_world_stop(struct tu_world *w)
{
	tu_daemon_stop(&w->d);
	tu_history_free(&w->h);
	tu_rm_rf(w->dir);
	free(w->dir);
}

uint64_t tu_world_publish(struct tu_world *w, const char *td, size_t v)
{
	struct tu_output o = { 0 };
	const char *file = tu_path_in(w->dir, "version.pem");
	const char *seq;
	uint64_t n;

	ck_assert_uint_lt(v, w->h.n);
	ck_assert_int_eq(tu_write_file(file, w->h.data[v], w->h.len[v]), 0);
	ck_assert_msg(tu_run(&o, w->dir, "bundlectl",
			      "publish --server %s --key '%s' --domain %s --refresh-hint 300 --skip-refused --json '%s'",
			      w->d.base_url, w->key, td, file) == 0,
		"publish %s to %s: %s", w->h.name[v], td, o.err);
	ck_assert_ptr_nonnull(seq = strstr(o.out, "\"sequence\":"));
	n = strtoull(seq + 11, NULL, 10);
	tu_output_free(&o);
	return n;
}

uint8_t *tu_world_newest(const struct tu_world *w, const char *td, size_t *len)
{
	char path[300], *body;

	snprintf(path, sizeof(path), "/v1/domains/%s/bundle", td);
	ck_assert_int_eq(tu_http_get(&w->d, path, &body, len), 200);
	return (uint8_t *)body;
}

int tu_agent_once(struct tu_output *o, const char *dir, const char *server, const char *fmt, ...)
{
	va_list ap;
	char *args;
	int status;

	va_start(ap, fmt);
	args = tu_vformat(fmt, ap);
	va_end(ap);
	status = tu_run(o, dir, "bundlectl", "agent --once --server %s %s", server, args);
	free(args);
	return status;
}

void tu_agent_files_get(struct tu_agent_files *f, const char *out, const char *state_dir)
{
	f->out = tu_read_file(out, &f->out_len);
	f->state = tu_read_file(tu_path_in(state_dir, "state"), &f->state_len);
	ck_assert_ptr_nonnull(f->out);
	ck_assert_ptr_nonnull(f->state);
}

void tu_agent_files_assert_same(const struct tu_agent_files *a, const struct tu_agent_files *b, const char *what)
{
	ck_assert_msg(a->out_len == b->out_len && memcmp(a->out, b->out, a->out_len) == 0, "%s: the file changed", what);
	ck_assert_msg(a->state_len == b->state_len && memcmp(a->state, b->state, a->state_len) == 0,
		"%s: the state changed", what);
}

void tu_agent_files_free(struct tu_agent_files *f)
{
	free(f->out);
	free(f->state);
	memset(f, 0, sizeof(*f));
}

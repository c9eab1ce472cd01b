/*
 * The agent's loop (bundled/agent.h): one round asks the server about every followed domain,
 * verifies what it answers (agent_verify.c) and installs what holds; between rounds it waits
 * on a pipe that bd_agent_wake and bd_agent_stop write to.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent_internal.h"
#include "bundled/file.h"
#include "translog/file.h"

struct bd_agent {
	bd_agent_options o;
	bd_client *server, *gateway;
	tl_verifier *tofu_key;  /* the key pinned by TOFU or read back from the state */
	const tl_verifier *log_key;
	int wake[2];            /* the loop waits on wake[0] */
	volatile sig_atomic_t stopping;
	atomic_bool woken_all;                     /* bd_agent_wake(NULL): a whole round now */
	atomic_bool woken[BD_AGENT_MAX_DOMAINS];   /* bd_agent_wake(domain i): poll it soon */
	struct agent_watch *watch;                 /* during bd_agent_run with o.watch */
};

static void say(const bd_agent *a, bd_agent_level level, const char *fmt, ...) TL_PRINTF(3, 4);
static void say(const bd_agent *a, bd_agent_level level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (a->o.log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	a->o.log(a->o.log_ctx, level, msg);
}

int bd_agent_format_parse(bd_agent_format *out, const char *name)
{
	static const char *const names[] = { "spiffe", "pem", "der" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0) {
			*out = (bd_agent_format)i;
			return 0;
		}
	return tl_error_set(TL_E_INPUT, "unknown format \"%s\" (spiffe, pem or der)", name);
}

static void version_path(char *path, size_t cap, const bd_agent *a, const tl_hash *sha)
{
	char hex[2 * TL_HASH_SIZE + 1];

	tl_hex_encode(hex, sha->b, TL_HASH_SIZE);
	snprintf(path, cap, "%s/" AGENT_VERSIONS_DIR "/%s", a->o.state_dir, hex);
}

/* GET the diff response for domain i, from version `from` (0: none held). */
static int fetch(tl_buf *body, bd_agent *a, const struct agent_state *st, size_t i, uint64_t from)
{
	static const char *const accept[] = { "Accept: " BD_DIFF_RESPONSE_MEDIA_TYPE, NULL };
	char path[BD_HTTP_PATH_MAX];

	snprintf(path, sizeof(path), "/v1/domains/%s/diff?from=%" PRIu64 "&to=latest&size=%" PRIu64, st->domains[i],
		from, st->has_checkpoint ? st->checkpoint.size : 0);
	return bd_client_get_headers(body, a->server, path, accept, BD_DIFF_RESPONSE_MAX_SIZE);
}

/* Pins the key the server presents (first contact, --tofu). */
static int pin_tofu(bd_agent *a, struct agent_state *st)
{
	tl_buf body = tl_buf_make(BD_CLIENT_MAX_JSON);
	json_t *doc = NULL, *k;
	int err;

	if ((err = bd_client_get(&body, a->server, "/v1/log", BD_CLIENT_MAX_JSON)) != 0)
		goto out;
	doc = json_loadb((const char *)body.data, body.len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_string(k = json_object_get(doc, "vkey")) || json_string_length(k) > TL_MAX_KEY_TEXT) {
		err = tl_error_set(TL_E_INPUT, "GET /v1/log: no vkey");
		goto out;
	}
	tl_verifier_free(a->tofu_key); /* a pin from a round that verified nothing, so saved nothing */
	a->tofu_key = NULL;
	if ((err = tl_verifier_parse(&a->tofu_key, json_string_value(k), json_string_length(k))) != 0)
		goto out;
	memcpy(st->log_vkey, json_string_value(k), json_string_length(k) + 1);
	a->log_key = a->tofu_key;
	say(a, BD_AGENT_WARN, "trust on first use: pinned the log key %s", st->log_vkey);
out:
	json_decref(doc);
	tl_buf_free(&body);
	return err;
}

/* The state for a round over domain i, with the log key settled: pinned in the state, given,
 * or (first contact, --tofu) taken from the server. The held checkpoint is re-verified. */
static int load_state(struct agent_state *st, bd_agent *a)
{
	tl_buf vkey = tl_buf_make(TL_MAX_KEY_TEXT + 1);
	int err;

	if ((err = agent_state_load(st, a->o.state_dir, a->o.domains, a->o.n_domains)) != 0)
		goto out;
	if (st->log_vkey[0] == '\0') {
		if (a->o.log_key != NULL) {
			if ((err = tl_verifier_format(&vkey, a->o.log_key)) != 0 || (err = tl_buf_append_u8(&vkey, 0)) != 0)
				goto out;
			memcpy(st->log_vkey, vkey.data, vkey.len);
		} else if ((err = pin_tofu(a, st)) != 0) {
			goto out;
		}
	}
	if (st->has_checkpoint &&
	    (err = tl_checkpoint_open(&st->checkpoint, st->note.data, st->note.len, a->log_key)) != 0)
		err = tl_error_wrap(TL_E_INPUT, "the state's checkpoint is not signed by the pinned key");
out:
	tl_buf_free(&vkey);
	return err;
}

/* --on-update; its failure is only said. */
static void hook(const bd_agent *a, size_t i, uint64_t sequence)
{
	int status = agent_run_hook(&a->o, i, sequence);

	if (status != 0)
		say(a, BD_AGENT_WARN, "%s: --on-update failed (status %d)", a->o.domains[i], status);
}

/* Whether a followed domain holds a version with these bytes (domains may share them). */
static bool held_elsewhere(const struct agent_state *st, const tl_hash *sha)
{
	for (size_t i = 0; i < st->n; i++)
		if (st->held[i].has && tl_hash_equal(&st->held[i].sha256, sha))
			return true;
	return false;
}

/* The bytes of replies the agent has received from the server and the gateway. */
static uint64_t received(const bd_agent *a)
{
	return bd_client_received(a->server) + (a->gateway != NULL ? bd_client_received(a->gateway) : 0);
}

/* Installs a verified update of domain i: canonical bytes, then the state, then the file.
 * `downloaded`: the bytes the update took (diff response, entry bundles, blocks), said with
 * the diff response's own share. */
static int install(bd_agent *a, struct agent_state *st, size_t i, struct agent_update *u, const bd_diff_response *r,
	uint64_t downloaded, size_t response)
{
	char path[BD_FILE_MAX_PATH], old_path[BD_FILE_MAX_PATH];
	struct agent_version old = st->held[i];
	bool changed = false, new_version = r->status != BD_DIFF_STATUS_CURRENT;
	int err;

	if (new_version) {
		version_path(path, sizeof(path), a, &u->entry.sha256);
		if ((err = tl_file_replace(path, u->bytes.data, u->bytes.len)) != 0)
			return err;
		st->held[i] = (struct agent_version){ .has = true, .sequence = u->entry.sequence, .index = u->index,
			.size = u->entry.size, .refresh_hint = u->entry.refresh_hint, .sha256 = u->entry.sha256 };
	}
	/* The same checkpoint seen before with fresher cosignatures is as fresh as those. */
	if (!st->has_checkpoint || st->checkpoint.size != u->checkpoint.size || u->cosigned_at > st->cosigned_at)
		st->cosigned_at = u->cosigned_at;
	st->has_checkpoint = true;
	st->checkpoint = u->checkpoint;
	tl_buf_reset(&st->note);
	if ((err = tl_buf_append(&st->note, r->checkpoint, r->checkpoint_len)) != 0)
		return err;
	st->verified_at = (uint64_t)time(NULL);
	if ((err = agent_state_save(st, a->o.state_dir)) != 0)
		return err;
	if (!new_version)
		return 0;
	if ((err = agent_write_output(&changed, &a->o, i, u->bytes.data, u->bytes.len)) != 0)
		return err;
	say(a, BD_AGENT_INFO, "%s: version %" PRIu64 " verified and installed (%s, %zu bytes; %" PRIu64 " bytes downloaded, "
		"%zu of them the diff response body)", st->domains[i], u->entry.sequence,
		r->status == BD_DIFF_STATUS_PATCH ? "from a diff" : "fetched whole by CID", u->bytes.len, downloaded, response);
	if (old.has && !held_elsewhere(st, &old.sha256)) {
		version_path(old_path, sizeof(old_path), a, &old.sha256);
		unlink(old_path);
	}
	if (changed)
		hook(a, i, u->entry.sequence);
	return 0;
}

/* One domain: ask, verify, install. Refusals and failures are counted in *rd and said. */
static int poll_domain(bd_agent_round *rd, bd_agent *a, size_t i)
{
	struct agent_state *st = calloc(1, sizeof(*st));
	struct agent_update *u = calloc(1, sizeof(*u));
	bd_diff_response *r = malloc(sizeof(*r));
	tl_buf body = tl_buf_make(BD_DIFF_RESPONSE_MAX_SIZE), held = tl_buf_make(BD_DIFF_MAX_VERSION_SIZE);
	tl_follow_config follow;
	struct agent_check c;
	char path[BD_FILE_MAX_PATH];
	uint64_t received0 = received(a);
	int err;

	if (st == NULL || u == NULL || r == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
		goto out;
	}
	u->bytes = tl_buf_make(BD_DIFF_MAX_VERSION_SIZE);
	if ((err = load_state(st, a)) != 0)
		goto out;
	if (st->held[i].has) {
		version_path(path, sizeof(path), a, &st->held[i].sha256);
		if (tl_file_read(&held, path) != 0)
			tl_buf_reset(&held); /* lost: the version is fetched whole */
	}
	if ((err = fetch(&body, a, st, i, held.len ? st->held[i].sequence : 0)) != 0) {
		say(a, BD_AGENT_WARN, "%s: the server did not answer: %s", a->o.domains[i], tl_error_message());
		rd->failed++;
		if (rd->first_error == 0)
			rd->first_error = err;
		err = 0;
		goto out;
	}
	follow = (tl_follow_config){ .transport = { bd_client_fetch, a->server }, .log_key = a->log_key,
		.witnesses = a->o.witnesses, .n_witnesses = a->o.n_witnesses, .quorum = a->o.quorum };
	c = (struct agent_check){ .follow = &follow, .origin = tl_verifier_name(a->log_key), .domain = a->o.domains[i],
		.server = a->server, .blocks = a->gateway ? a->gateway : a->server, .held_bytes = held.len ? held.data : NULL, .held_len = held.len };
	if ((err = bd_diff_response_read(r, body.data, body.len)) == 0 && (err = agent_verify(u, st, &c, r)) == 0 &&
	    u->fork) {
		rd->fork = true;
		if ((err = agent_save_evidence(path, sizeof(path), &a->o, st, u, r)) == 0)
			say(a, BD_AGENT_ERROR, "ALARM: fork: the log contradicts the checkpoint verified before; the "
				"files are kept; evidence in %s", path);
		goto out;
	}
	if (err == TL_E_NOMEM || err == TL_E_IO)
		goto out;
	if (err != 0) {
		say(a, BD_AGENT_ERROR, "%s: update refused, file and state kept: %s", a->o.domains[i], tl_error_message());
		rd->refused++;
		if (rd->first_error == 0)
			rd->first_error = err;
		err = 0;
		goto out;
	}
	if ((err = install(a, st, i, u, r, received(a) - received0, body.len)) == 0 && r->status != BD_DIFF_STATUS_CURRENT)
		rd->updated++;
out:
	if (st != NULL && i < st->n && st->held[i].has)
		agent_watch_held(a->watch, i, st->held[i].sequence);
	if (u != NULL)
		tl_buf_free(&u->bytes);
	if (st != NULL)
		agent_state_free(st);
	tl_buf_free(&held);
	tl_buf_free(&body);
	free(r);
	free(u);
	free(st);
	return err;
}

/* With witnesses, the view is as fresh as the quorum's cosignatures on the newest checkpoint
 * verified (a frozen server can replay an old checkpoint, not new cosignatures); without, only
 * the time since a checkpoint last verified can be known. */
static bool is_stale(const bd_agent *a, const struct agent_state *st)
{
	uint64_t now = (uint64_t)time(NULL), since = a->o.n_witnesses > 0 ? st->cosigned_at : st->verified_at;

	return !st->has_checkpoint || since == 0 || (now > since && now - since > a->o.max_stale_s);
}

int bd_agent_poll(bd_agent_round *rd, bd_agent *a)
{
	struct agent_state *st;
	int err = 0;

	memset(rd, 0, sizeof(*rd));
	for (size_t i = 0; i < a->o.n_domains && err == 0; i++)
		err = poll_domain(rd, a, i);
	if (err != 0 || a->o.max_stale_s == 0)
		return err;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	if ((err = agent_state_load(st, a->o.state_dir, a->o.domains, a->o.n_domains)) == 0 && is_stale(a, st)) {
		rd->stale = true;
		if (a->o.n_witnesses > 0)
			say(a, BD_AGENT_ERROR, "STALE: no checkpoint verified that %zu witnesses cosigned in the last %" PRIu64 " s",
				a->o.quorum > 0 ? a->o.quorum : (size_t)1, a->o.max_stale_s);
		else
			say(a, BD_AGENT_ERROR, "STALE: no checkpoint verified in the last %" PRIu64 " s", a->o.max_stale_s);
	}
	agent_state_free(st);
	free(st);
	return err;
}

/* Seconds to the next round: the poll interval, or the shortest refresh hint held. */
static uint64_t interval_s(const bd_agent *a)
{
	struct agent_state *st = calloc(1, sizeof(*st));
	uint64_t s = BD_AGENT_MAX_INTERVAL_S;

	if (a->o.poll_interval_s != 0) {
		free(st);
		return a->o.poll_interval_s;
	}
	if (st != NULL && agent_state_load(st, a->o.state_dir, a->o.domains, a->o.n_domains) == 0)
		for (size_t i = 0; i < st->n; i++) {
			uint64_t h = st->held[i].has && st->held[i].refresh_hint ? st->held[i].refresh_hint :
				BD_AGENT_DEFAULT_INTERVAL_S;

			s = h < s ? h : s;
		}
	if (st != NULL)
		agent_state_free(st);
	free(st);
	return s < BD_AGENT_MIN_INTERVAL_S ? BD_AGENT_MIN_INTERVAL_S : s;
}

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static void wake_for(void *ctx, const char *domain)
{
	bd_agent_wake(ctx, domain);
}

/* Starts the watch stream, resuming after the checkpoint verified last (so what was
 * published since the round before is replayed), told the sequences held. Its failure is
 * only said. */
static void start_watch(bd_agent *a)
{
	struct agent_state *st = calloc(1, sizeof(*st));
	bool loaded = st != NULL && agent_state_load(st, a->o.state_dir, a->o.domains, a->o.n_domains) == 0;
	bool resume = loaded && st->has_checkpoint && st->checkpoint.size > 0;

	if (agent_watch_start(&a->watch, &a->o, resume, resume ? st->checkpoint.size - 1 : 0, wake_for, a) != 0)
		say(a, BD_AGENT_WARN, "watch: not started (%s); polling only", tl_error_message());
	for (size_t i = 0; loaded && i < st->n; i++)
		if (st->held[i].has)
			agent_watch_held(a->watch, i, st->held[i].sequence);
	if (st != NULL)
		agent_state_free(st);
	free(st);
}

/* The domains woken since the last look, polled now; whether any was updated. */
static int poll_woken(bool *updated, bd_agent *a)
{
	bd_agent_round rd;
	int err = 0;

	memset(&rd, 0, sizeof(rd));
	for (size_t i = 0; i < a->o.n_domains && err == 0; i++)
		if (atomic_exchange(&a->woken[i], false)) {
			say(a, BD_AGENT_INFO, "%s: woken (a new version announced): polling it", a->o.domains[i]);
			err = poll_domain(&rd, a, i);
		}
	*updated = rd.updated != 0;
	return err;
}

static bool any_woken(bd_agent *a)
{
	for (size_t i = 0; i < a->o.n_domains; i++)
		if (atomic_load(&a->woken[i]))
			return true;
	return false;
}

/*
 * Two clocks: the whole round (every domain) at the interval, or sooner after a failure
 * (back-off), or at once on bd_agent_wake(NULL); and the woken domains, polled at most once
 * per `gap`, which doubles each time a woken poll finds nothing new (a stream announcing what
 * is not there) and falls back once one installs something.
 */
int bd_agent_run(bd_agent *a)
{
	uint64_t backoff_ms = 0, gap_ms = BD_AGENT_WAKE_GAP_MIN_MS, next_round = 0, next_wake = 0;
	bd_agent_round rd;
	char drain[64];
	bool updated;
	int err = 0;

	while (!a->stopping) {
		uint64_t now = now_ms(), until;
		struct pollfd p = { .fd = a->wake[0], .events = POLLIN };

		if (atomic_exchange(&a->woken_all, false) || now >= next_round) {
			uint64_t wait_ms;

			for (size_t i = 0; i < a->o.n_domains; i++)
				atomic_store(&a->woken[i], false); /* the round asks about every domain */
			if ((err = bd_agent_poll(&rd, a)) != 0)
				break;
			wait_ms = interval_s(a) * 1000;
			if (rd.failed != 0 || rd.refused != 0) {
				/* Jittered exponential back-off from 1 s, up to the interval. */
				backoff_ms = backoff_ms == 0 ? 1000 : backoff_ms < wait_ms ? 2 * backoff_ms : backoff_ms;
				if (backoff_ms < wait_ms)
					wait_ms = backoff_ms / 2 + randombytes_uniform((uint32_t)(backoff_ms / 2 + 1));
			} else {
				backoff_ms = 0;
			}
			next_round = now_ms() + wait_ms;
			if (a->o.watch && a->watch == NULL && !a->stopping)
				start_watch(a);
		} else if (any_woken(a) && now >= next_wake) {
			if ((err = poll_woken(&updated, a)) != 0)
				break;
			gap_ms = updated ? BD_AGENT_WAKE_GAP_MIN_MS : gap_ms * 2 > BD_AGENT_WAKE_GAP_MAX_MS ?
				BD_AGENT_WAKE_GAP_MAX_MS : gap_ms * 2;
			next_wake = now_ms() + gap_ms;
		}
		if (a->stopping)
			break;
		now = now_ms();
		until = next_round;
		if (any_woken(a) && next_wake < until)
			until = next_wake;
		if (atomic_load(&a->woken_all))
			until = now;
		until = until > now ? until - now : 0;
		if (poll(&p, 1, until > 86400000 ? 86400000 : (int)until) > 0)
			while (read(a->wake[0], drain, sizeof(drain)) > 0)
				;
	}
	agent_watch_stop(a->watch);
	a->watch = NULL;
	return err;
}

void bd_agent_wake(bd_agent *a, const char *domain)
{
	size_t i = 0;
	ssize_t n;

	while (domain != NULL && i < a->o.n_domains && strcmp(a->o.domains[i], domain) != 0)
		i++;
	if (domain != NULL && i < a->o.n_domains)
		atomic_store(&a->woken[i], true);
	else
		atomic_store(&a->woken_all, true);
	do
		n = write(a->wake[1], "w", 1);
	while (n < 0 && errno == EINTR);
}

void bd_agent_stop(bd_agent *a)
{
	a->stopping = 1;
	bd_agent_wake(a, NULL);
}

/* After a crash between the state's commit and the file's write: every file holds the
 * state's version. */
static int restore_outputs(bd_agent *a)
{
	struct agent_state *st = calloc(1, sizeof(*st));
	tl_buf bytes = tl_buf_make(BD_DIFF_MAX_VERSION_SIZE);
	char path[BD_FILE_MAX_PATH];
	bool changed;
	tl_hash sha;
	int err;

	if (st == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	if ((err = load_state(st, a)) != 0)
		goto out;
	for (size_t i = 0; i < st->n && err == 0; i++) {
		if (!st->held[i].has)
			continue;
		tl_buf_reset(&bytes);
		version_path(path, sizeof(path), a, &st->held[i].sha256);
		if (tl_file_read(&bytes, path) != 0)
			continue;
		tl_sha256(&sha, bytes.data, bytes.len);
		if (!tl_hash_equal(&sha, &st->held[i].sha256))
			continue;
		if ((err = agent_write_output(&changed, &a->o, i, bytes.data, bytes.len)) == 0 && changed) {
			say(a, BD_AGENT_WARN, "%s: the file did not hold version %" PRIu64 " (interrupted update): rewritten",
				st->domains[i], st->held[i].sequence);
			hook(a, i, st->held[i].sequence);
		}
	}
out:
	tl_buf_free(&bytes);
	agent_state_free(st);
	free(st);
	return err;
}

int bd_agent_new(bd_agent **out, const bd_agent_options *o)
{
	bd_agent *a = NULL;
	struct agent_state *st = NULL;
	char path[BD_FILE_MAX_PATH];
	tl_buf vkey = tl_buf_make(TL_MAX_KEY_TEXT + 1);
	int err;

	if (o->n_domains == 0 || o->n_domains > BD_AGENT_MAX_DOMAINS || o->out == NULL || o->state_dir == NULL ||
	    (o->log_key == NULL) == !o->tofu || o->quorum > o->n_witnesses)
		return tl_error_set(TL_E_INPUT, "the agent needs 1..%d domains, an output, a state directory, either a log "
			"key or TOFU, and a quorum within the witnesses", BD_AGENT_MAX_DOMAINS);
	for (size_t i = 0; i < o->n_domains; i++)
		if ((err = bd_domain_name_check(o->domains[i], strlen(o->domains[i]))) != 0)
			return err;
	if ((a = calloc(1, sizeof(*a))) == NULL || (st = calloc(1, sizeof(*st))) == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
		goto out;
	}
	a->o = *o;
	a->wake[0] = a->wake[1] = -1;
	a->log_key = o->log_key;
	snprintf(path, sizeof(path), "%s/" AGENT_VERSIONS_DIR, o->state_dir);
	if ((err = agent_mkdir(o->state_dir)) != 0 || (err = agent_mkdir(path)) != 0 ||
	    (o->n_domains > 1 && (err = agent_mkdir(o->out)) != 0))
		goto out;
	if (pipe(a->wake) != 0 || fcntl(a->wake[0], F_SETFL, O_NONBLOCK) != 0 || fcntl(a->wake[1], F_SETFL, O_NONBLOCK) != 0 ||
	    fcntl(a->wake[0], F_SETFD, FD_CLOEXEC) != 0 || fcntl(a->wake[1], F_SETFD, FD_CLOEXEC) != 0) {
		err = tl_error_set(TL_E_IO, "pipe: %s", strerror(errno));
		goto out;
	}
	if ((err = bd_client_open(&a->server, &o->server)) != 0 ||
	    (o->ipfs_gateway != NULL &&
		    (err = bd_client_open(&a->gateway, &(bd_client_options){ .url = o->ipfs_gateway })) != 0))
		goto out;
	if ((err = agent_state_load(st, o->state_dir, o->domains, o->n_domains)) != 0)
		goto out;
	if (st->log_vkey[0] != '\0') {
		if (o->log_key != NULL) {
			if ((err = tl_verifier_format(&vkey, o->log_key)) != 0 || (err = tl_buf_append_u8(&vkey, 0)) != 0)
				goto out;
			if (strcmp((const char *)vkey.data, st->log_vkey) != 0) {
				err = tl_error_set(TL_E_INPUT, "the state is pinned to another log key (%s)", st->log_vkey);
				goto out;
			}
		} else if ((err = tl_verifier_parse(&a->tofu_key, st->log_vkey, strlen(st->log_vkey))) != 0) {
			goto out;
		} else {
			a->log_key = a->tofu_key;
		}
	}
	if (a->log_key != NULL && (err = restore_outputs(a)) != 0)
		goto out;
	*out = a;
	a = NULL;
out:
	if (st != NULL)
		agent_state_free(st);
	free(st);
	tl_buf_free(&vkey);
	bd_agent_free(a);
	return err;
}

void bd_agent_free(bd_agent *a)
{
	if (a == NULL)
		return;
	bd_client_close(a->server);
	bd_client_close(a->gateway);
	tl_verifier_free(a->tofu_key);
	if (a->wake[0] >= 0)
		close(a->wake[0]);
	if (a->wake[1] >= 0)
		close(a->wake[1]);
	free(a);
}

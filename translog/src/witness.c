/*
 * The witness's decision for one add-checkpoint request (C2SP tlog-witness), in the order the
 * spec lists its checks: origin known (404), signature by a known log key (403), old size not
 * above the size (400), old size equal to the size last cosigned (409), same size same root
 * (409), consistency proof (422); then persist, then cosign. The state file is read again
 * under the log's lock for every request, so witness processes sharing a directory agree.
 * Each log has its own lock, so one log's fsyncs never hold up another's requests.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "translog/checkpoint.h"
#include "translog/cosig.h"
#include "translog/note.h"
#include "translog/proof.h"
#include "translog/witness.h"
#include "witness_state.h"

/* One log (one origin, maybe several keys) and its lock: a mutex, because flock(2) does not
 * serialise threads sharing one lock descriptor, and the lock file, for other processes. */
struct origin {
	const char *name; /* borrowed from its first key */
	pthread_mutex_t mu;
	int lock_fd;
};

struct tl_witness {
	const tl_signer *key;
	tl_verifier *self; /* the witness's own key, to check its cosignature on state files */
	const tl_verifier **logs; /* a copy of the config's array (the keys are borrowed) */
	size_t n_logs;
	struct origin *origins;
	size_t n_origins;
	tl_witness_dir dir;
};

/* The latest cosigned checkpoint of one log, as its state file says. */
struct state {
	int have; /* 0: never cosigned (size 0, the empty tree's root) */
	tl_checkpoint cp;
};

/* The configured keys whose name is `origin`, into keys[TL_WITNESS_MAX_LOGS]. */
static size_t keys_of(const tl_verifier **keys, const tl_witness *w, const char *origin)
{
	size_t n = 0;

	for (size_t i = 0; i < w->n_logs; i++)
		if (strcmp(tl_verifier_name(w->logs[i]), origin) == 0)
			keys[n++] = w->logs[i];
	return n;
}

/* Reads and checks the state of `origin`: a checkpoint note of that origin that carries a valid
 * cosignature by this witness (which only it can make: a file that lacks one was not written
 * here). The log's signature is not required again, so that retiring a log key does not
 * orphan the state the witness cosigned under it. */
static int load_state(struct state *st, tl_buf *note, tl_witness *w, const char *origin)
{
	char name[TL_WITNESS_STATE_NAME];
	tl_buf file = tl_buf_make(TL_WITNESS_STATE_MAX);
	tl_note *n = NULL;
	uint64_t ts;
	int err;

	memset(st, 0, sizeof(*st));
	tl_hash_empty(&st->cp.root);
	tl_witness_state_name(name, origin);
	if ((err = tl_witness_state_read(&file, &w->dir, name)) != 0) {
		if (err == TL_E_NOTFOUND)
			err = 0;
		goto out;
	}
	if ((n = malloc(sizeof(*n))) == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
		goto out;
	}
	if ((err = tl_note_parse(n, file.data, file.len)) != 0 ||
	    (err = tl_checkpoint_parse(&st->cp, n->text, n->text_len)) != 0 ||
	    (err = tl_cosig_verify(&ts, n, w->self)) != 0)
		goto bad;
	if (strcmp(st->cp.origin, origin) != 0) {
		err = tl_error_set(TL_E_INTERNAL, "it is the checkpoint of \"%s\"", st->cp.origin);
		goto bad;
	}
	st->have = 1;
	if (note != NULL)
		err = tl_buf_append(note, file.data, file.len);
	goto out;
bad:
	err = tl_error_wrap(TL_E_INTERNAL, "witness state %s/%s of \"%s\" does not verify (corrupt or tampered; "
		"it is left as it is)", w->dir.path, name, origin);
out:
	free(n);
	tl_buf_free(&file);
	return err;
}

/* An answer other than 200: the status, and the current error message as the body. */
static int refuse(tl_buf *reply, unsigned *status, unsigned code)
{
	*status = code;
	if (tl_buf_append_str(reply, tl_error_message()) != 0 || tl_buf_append_u8(reply, '\n') != 0) {
		*status = 500;
		return tl_error_set(TL_E_NOMEM, "out of memory");
	}
	return 0;
}

static int conflict(tl_buf *reply, unsigned *status, uint64_t latest, const char *why)
{
	*status = 409;
	if (tl_witness_size_write(reply, latest) != 0) {
		*status = 500;
		return tl_error_set(TL_E_NOMEM, "out of memory");
	}
	tl_error_set(TL_E_CONFLICT, "%s: the witness last cosigned size %" PRIu64, why, latest);
	return 0;
}

/* The note to store: the checkpoint text, the log's signature lines by the keys in `keys`,
 * and the witness's cosignature line. */
static int state_note(tl_buf *out, const tl_note *n, const tl_verifier *const *keys, size_t n_keys,
	const tl_buf *line)
{
	tl_note *m = malloc(sizeof(*m));
	int err;

	if (m == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	m->text = n->text;
	m->text_len = n->text_len;
	m->n_sigs = 0;
	for (size_t i = 0; i < n->n_sigs; i++)
		for (size_t k = 0; k < n_keys; k++)
			if (n->sigs[i].key_id == tl_verifier_key_id(keys[k]) &&
			    n->sigs[i].name_len == strlen(tl_verifier_name(keys[k])) &&
			    memcmp(n->sigs[i].name, tl_verifier_name(keys[k]), n->sigs[i].name_len) == 0) {
				m->sigs[m->n_sigs++] = n->sigs[i];
				break;
			}
	if ((err = tl_note_write(out, m)) == 0)
		err = tl_buf_append(out, line->data, line->len);
	free(m);
	return err;
}

/* The part under the lock: compare with the state, persist, cosign. */
static int decide(tl_buf *reply, unsigned *status, tl_witness *w, const tl_witness_request *req, const tl_note *n,
	const tl_checkpoint *cp, const tl_verifier *const *keys, size_t n_keys, uint64_t now)
{
	char name[TL_WITNESS_STATE_NAME];
	tl_buf line = tl_buf_make(4096), stored = tl_buf_make(TL_WITNESS_STATE_MAX);
	struct state st;
	int err;

	*status = 500;
	if ((err = load_state(&st, NULL, w, cp->origin)) != 0)
		goto out;
	if (req->old_size != st.cp.size) {
		err = conflict(reply, status, st.cp.size, "old size mismatch");
		goto out;
	}
	if (req->old_size == cp->size) {
		if (!tl_hash_equal(&st.cp.root, &cp->root)) {
			err = conflict(reply, status, st.cp.size, "a different root hash for the size last cosigned");
			goto out;
		}
		if (req->n_proof != 0) {
			tl_error_set(TL_E_UNAUTHORIZED, "a consistency proof between equal sizes must be empty");
			err = refuse(reply, status, 422);
			goto out;
		}
	} else if (req->old_size == 0) {
		if (req->n_proof != 0) {
			tl_error_set(TL_E_UNAUTHORIZED, "a consistency proof from size 0 must be empty");
			err = refuse(reply, status, 422);
			goto out;
		}
	} else if (tl_verify_consistency(req->old_size, cp->size, req->proof, req->n_proof, &st.cp.root,
			&cp->root) != 0) {
		tl_error_wrap(TL_E_UNAUTHORIZED, "consistency proof from size %" PRIu64 " to %" PRIu64, req->old_size,
			cp->size);
		err = refuse(reply, status, 422);
		goto out;
	}
	if ((err = tl_cosig_sign(&line, n->text, n->text_len, now, w->key)) != 0)
		goto out;
	/* Persisted before the cosignature leaves: a cosigned size is never forgotten. Equal
	 * size and root: nothing new to keep. */
	if (!st.have || cp->size != st.cp.size) {
		tl_witness_state_name(name, cp->origin);
		if ((err = state_note(&stored, n, keys, n_keys, &line)) != 0 ||
		    (err = tl_witness_state_write(&w->dir, name, stored.data, stored.len)) != 0)
			goto out;
	}
	if ((err = tl_buf_append(reply, line.data, line.len)) != 0)
		goto out;
	*status = 200;
out:
	tl_buf_free(&line);
	tl_buf_free(&stored);
	return err;
}

/* The configured log with this origin, or NULL. */
static struct origin *origin_of(tl_witness *w, const char *name)
{
	for (size_t i = 0; i < w->n_origins; i++)
		if (strcmp(w->origins[i].name, name) == 0)
			return &w->origins[i];
	return NULL;
}

static int lock(tl_witness *w, struct origin *o)
{
	int err;

	pthread_mutex_lock(&o->mu);
	if ((err = tl_witness_lock_take(o->lock_fd, &w->dir)) != 0)
		pthread_mutex_unlock(&o->mu);
	return err;
}

static void unlock(struct origin *o)
{
	tl_witness_lock_drop(o->lock_fd);
	pthread_mutex_unlock(&o->mu);
}

int tl_witness_add_checkpoint(tl_buf *reply, unsigned *status, tl_witness *w, const uint8_t *body, size_t len,
	uint64_t now)
{
	const tl_verifier *keys[TL_WITNESS_MAX_LOGS];
	tl_witness_request req;
	tl_checkpoint cp;
	tl_note *n = NULL;
	struct origin *o;
	size_t n_keys;
	int err;

	*status = 500;
	if (tl_witness_request_parse(&req, body, len) != 0)
		return refuse(reply, status, 400);
	if ((n = malloc(sizeof(*n))) == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	if (tl_note_parse(n, req.note, req.note_len) != 0 || tl_checkpoint_parse(&cp, n->text, n->text_len) != 0) {
		tl_error_wrap(TL_E_INPUT, "add-checkpoint checkpoint");
		err = refuse(reply, status, 400);
		goto out;
	}
	if ((n_keys = keys_of(keys, w, cp.origin)) == 0) {
		tl_error_set(TL_E_NOTFOUND, "unknown log \"%s\"", cp.origin);
		err = refuse(reply, status, 404);
		goto out;
	}
	if (tl_note_verify(n, keys, n_keys, NULL) != 0) {
		tl_error_wrap(TL_E_UNAUTHORIZED, "checkpoint of \"%s\"", cp.origin);
		err = refuse(reply, status, 403);
		goto out;
	}
	if (cp.size > TL_MAX_TREE_SIZE || req.old_size > cp.size) {
		tl_error_set(TL_E_INPUT, "old size %" PRIu64 " is above the checkpoint's size %" PRIu64 " (or that is over 2^63)",
			req.old_size, cp.size);
		err = refuse(reply, status, 400);
		goto out;
	}
	o = origin_of(w, cp.origin);
	if ((err = lock(w, o)) != 0)
		goto out;
	err = decide(reply, status, w, &req, n, &cp, keys, n_keys, now);
	unlock(o);
out:
	free(n);
	return err;
}

int tl_witness_latest(uint64_t *size, tl_buf *note, tl_witness *w, const char *origin)
{
	struct origin *o = origin_of(w, origin);
	struct state st;
	int err;

	if (o == NULL)
		return tl_error_set(TL_E_NOTFOUND, "unknown log \"%s\"", origin);
	if ((err = lock(w, o)) != 0)
		return err;
	err = load_state(&st, note, w, origin);
	unlock(o);
	if (err == 0)
		*size = st.cp.size;
	return err;
}

static int check_config(const tl_witness_config *cfg)
{
	if (cfg->key == NULL || tl_signer_type(cfg->key) != TL_KEY_TYPE_COSIGNATURE)
		return tl_error_set(TL_E_INPUT, "a witness key must be a cosignature/v1 key (type 0x04)");
	if (cfg->n_logs == 0 || cfg->n_logs > TL_WITNESS_MAX_LOGS)
		return tl_error_set(TL_E_INPUT, "a witness needs 1 to %d log keys, not %zu", TL_WITNESS_MAX_LOGS, cfg->n_logs);
	if (cfg->state_dir == NULL || cfg->state_dir[0] == '\0')
		return tl_error_set(TL_E_INPUT, "a witness needs a state directory");
	for (size_t i = 0; i < cfg->n_logs; i++) {
		const tl_verifier *v = cfg->logs[i];

		if (tl_verifier_type(v) != TL_KEY_TYPE_ED25519)
			return tl_error_set(TL_E_INPUT, "log key \"%s\" is not an Ed25519 note key (type 0x01)",
				tl_verifier_name(v));
		if (strlen(tl_verifier_name(v)) > TL_MAX_ORIGIN)
			return tl_error_set(TL_E_INPUT, "log key name \"%s\" is too long for an origin", tl_verifier_name(v));
		for (size_t j = 0; j < i; j++)
			if (strcmp(tl_verifier_name(v), tl_verifier_name(cfg->logs[j])) == 0 &&
			    tl_verifier_key_id(v) == tl_verifier_key_id(cfg->logs[j]))
				return tl_error_set(TL_E_INPUT, "log key \"%s\" (key id %08x) is given twice",
					tl_verifier_name(v), (unsigned)tl_verifier_key_id(v));
	}
	return 0;
}

/* The distinct origins of the keys, each with its lock file, and each one's state checked. */
static int open_origins(tl_witness *w)
{
	char name[TL_WITNESS_STATE_NAME];
	struct state st;
	int err;

	if ((w->origins = calloc(w->n_logs, sizeof(*w->origins))) == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	for (size_t i = 0; i < w->n_logs; i++) {
		struct origin *o;

		if (origin_of(w, tl_verifier_name(w->logs[i])) != NULL)
			continue;
		o = &w->origins[w->n_origins];
		o->name = tl_verifier_name(w->logs[i]);
		tl_witness_lock_name(name, o->name);
		if ((err = tl_witness_lock_open(&o->lock_fd, &w->dir, name)) != 0)
			return err;
		pthread_mutex_init(&o->mu, NULL);
		w->n_origins++;
		if ((err = lock(w, o)) != 0)
			return err;
		err = load_state(&st, NULL, w, o->name);
		unlock(o);
		if (err)
			return err;
	}
	return 0;
}

int tl_witness_open(tl_witness **out, const tl_witness_config *cfg)
{
	tl_witness *w;
	int err;

	if ((err = check_config(cfg)) != 0)
		return err;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	w->key = cfg->key;
	w->n_logs = cfg->n_logs;
	w->dir.dir_fd = -1;
	if ((w->logs = calloc(cfg->n_logs, sizeof(*w->logs))) == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
		goto out;
	}
	memcpy(w->logs, cfg->logs, cfg->n_logs * sizeof(*w->logs));
	if ((err = tl_verifier_from_signer(&w->self, cfg->key)) != 0 ||
	    (err = tl_witness_dir_open(&w->dir, cfg->state_dir)) != 0 || (err = open_origins(w)) != 0)
		goto out;
out:
	if (err) {
		tl_witness_free(w);
		return err;
	}
	*out = w;
	return 0;
}

void tl_witness_free(tl_witness *w)
{
	if (w == NULL)
		return;
	for (size_t i = 0; i < w->n_origins; i++) {
		close(w->origins[i].lock_fd);
		pthread_mutex_destroy(&w->origins[i].mu);
	}
	free(w->origins);
	tl_witness_dir_close(&w->dir);
	tl_verifier_free(w->self);
	free(w->logs);
	free(w);
}

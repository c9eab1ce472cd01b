#include "witnesses.h"

#include <stdio.h>
#include <string.h>

#include "logging.h"
#include "translog/text.h"

/* The newest checkpoint that met the quorum, kept across restarts (in the data directory). */
#define WITNESSED_FILE "witnessed.checkpoint"

/* Per-witness readers' contexts: the process runs one daemon, as metrics_daemon.c assumes. */
static struct witness_ctx {
	struct daemon *d;
	size_t i;
} witness_ctx[CONFIG_MAX_WITNESSES];

static void report(void *ctx, const char *witness, const char *message)
{
	char safe[512];

	tl_text_printable(safe, sizeof(safe), message, strlen(message));
	/* Only a round that met the quorum is good news; anything else about rounds is a warning. */
	if (witness == NULL)
		log_at(strstr(message, "cosigned, quorum") != NULL && strstr(message, "not met") == NULL ? LOG_INFO : LOG_WARN,
			"witness round", "outcome=\"%s\"", safe);
	else
		log_at(LOG_WARN, "witness failed", "witness=\"%s\" error=\"%s\"", witness, safe);
}

static bd_cosigning_stats stats(void *ctx)
{
	bd_cosigning_stats s;

	bd_cosigning_stats_get(&s, ((struct daemon *)ctx)->cosigning);
	return s;
}

static double read_quorum_met(void *ctx)
{
	return stats(ctx).quorum_met ? 1 : 0;
}

static double read_cosigned_time(void *ctx)
{
	return (double)stats(ctx).cosigned_unix;
}

static double read_rounds(void *ctx)
{
	return (double)stats(ctx).rounds;
}

static double read_served_size(void *ctx)
{
	return (double)stats(ctx).served_size;
}

static bd_cosigning_witness_stats witness_stats(void *ctx)
{
	const struct witness_ctx *w = ctx;
	bd_cosigning_witness_stats s;

	bd_cosigning_witness_stats_get(&s, w->d->cosigning, w->i);
	return s;
}

static double read_lag(void *ctx)
{
	const struct witness_ctx *w = ctx;
	uint64_t size = tl_log_size(w->d->log), cosigned = witness_stats(ctx).cosigned_size;

	return cosigned >= size ? 0 : (double)(size - cosigned);
}

static double read_failures(void *ctx)
{
	return (double)witness_stats(ctx).failures;
}

static double read_cosignatures(void *ctx)
{
	return (double)witness_stats(ctx).cosignatures;
}

/* witness="<key name>": a note key name has no space or '+', but may hold a quote or a
 * backslash, which a label value would have to escape; they become '_'. */
static void witness_label(char *out, size_t cap, const char *name)
{
	size_t n = (size_t)snprintf(out, cap, "witness=\"%s\"", name);

	for (size_t i = strlen("witness=\""); i + 1 < n && i + 1 < cap; i++)
		if (out[i] == '"' || out[i] == '\\')
			out[i] = '_';
}

static int register_metrics(struct daemon *d)
{
	char label[METRICS_MAX_LABELS];
	int err;

	if ((err = metrics_sampled(d->metrics, METRIC_GAUGE, "bundled_witness_quorum_met",
		     "1 while the latest round of cosigning reached the witness quorum, else 0.", NULL,
		     read_quorum_met, d)) != 0 ||
	    (err = metrics_sampled(d->metrics, METRIC_GAUGE, "bundled_checkpoint_cosigned_timestamp_seconds",
		     "Unix time a checkpoint last reached the witness quorum; 0 if none since start.", NULL,
		     read_cosigned_time, d)) != 0 ||
	    (err = metrics_sampled(d->metrics, METRIC_COUNTER, "bundled_witness_rounds_total",
		     "Rounds of asking the witnesses to cosign a checkpoint.", NULL, read_rounds, d)) != 0 ||
	    (err = metrics_sampled(d->metrics, METRIC_GAUGE, "bundled_checkpoint_served_size",
		     "Tree size of the checkpoint /checkpoint serves (the held one under the hold policy).", NULL,
		     read_served_size, d)) != 0)
		return err;
	for (size_t i = 0; i < d->cfg.witness.n; i++) {
		witness_ctx[i] = (struct witness_ctx){ d, i };
		witness_label(label, sizeof(label), tl_verifier_name(d->witness_keys[i]));
		if ((err = metrics_sampled(d->metrics, METRIC_GAUGE, "bundled_witness_lag_entries",
			     "Entries between the log's size and the last checkpoint the witness cosigned.", label,
			     read_lag, &witness_ctx[i])) != 0 ||
		    (err = metrics_sampled(d->metrics, METRIC_COUNTER, "bundled_witness_failures_total",
			     "Rounds the witness refused, failed or missed the deadline of.", label, read_failures,
			     &witness_ctx[i])) != 0 ||
		    (err = metrics_sampled(d->metrics, METRIC_COUNTER, "bundled_witness_cosignatures_total",
			     "Valid cosignatures the witness gave.", label, read_cosignatures, &witness_ctx[i])) != 0)
			return err;
	}
	return 0;
}

int witnesses_open(struct daemon *d)
{
	const struct config_witness *cw = &d->cfg.witness;
	bd_cosigning_witness ws[CONFIG_MAX_WITNESSES];
	char state[CONFIG_MAX_STRING + 32];
	int err;

	if (cw->n == 0)
		return 0;
	for (size_t i = 0; i < cw->n; i++) {
		if ((err = tl_verifier_parse(&d->witness_keys[i], cw->w[i].vkey, strlen(cw->w[i].vkey))) != 0)
			return tl_error_wrap(err, "witness %s", cw->w[i].url);
		ws[i] = (bd_cosigning_witness){ cw->w[i].url, d->witness_keys[i] };
	}
	if ((err = register_metrics(d)) != 0)
		return err;
	snprintf(state, sizeof(state), "%s/" WITNESSED_FILE, d->cfg.data_dir);
	err = bd_cosigning_start(&d->cosigning, &(bd_cosigning_options){
		.log = d->log,
		.witnesses = ws,
		.n_witnesses = cw->n,
		.quorum = cw->quorum,
		.hold = cw->policy == WITNESS_POLICY_HOLD,
		.timeout_ms = (long)cw->timeout_ms,
		.refresh_s = cw->refresh_s,
		.ca_file = cw->ca_file[0] ? cw->ca_file : NULL,
		.state_path = state,
		.log_key = d->log_vkey, /* the signer's, or a replica's primary's */
		.report = report,
	});
	if (err == 0)
		log_at(LOG_INFO, "witnesses", "count=%zu quorum=%zu policy=%s timeout_ms=%u", cw->n, cw->quorum,
			cw->policy == WITNESS_POLICY_HOLD ? "hold" : "serve", cw->timeout_ms);
	return err;
}

void witnesses_close(struct daemon *d)
{
	bd_cosigning_stop(d->cosigning);
	d->cosigning = NULL;
	for (size_t i = 0; i < CONFIG_MAX_WITNESSES; i++) {
		tl_verifier_free(d->witness_keys[i]);
		d->witness_keys[i] = NULL;
	}
}

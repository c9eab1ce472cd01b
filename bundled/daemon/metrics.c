/*
 * The metric registry: families in registration order, each with its series. Series are
 * allocated one by one so handles stay valid as the registry grows; their values are atomics
 * (doubles as their bit patterns, updated by compare-and-swap), so updates take no lock. The
 * lock only orders registration against rendering.
 */
#include "metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const double metrics_latency_buckets[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
	5, 10 };
const size_t metrics_latency_nbuckets = sizeof(metrics_latency_buckets) / sizeof(metrics_latency_buckets[0]);

struct metric {
	enum metric_type type;
	char labels[METRICS_MAX_LABELS];
	uint64_t value; /* counter: the count; gauge: the bits of a double */
	/* A histogram: its family's bounds (copied, so observe reads no shared state), the
	 * counts per bucket, not cumulative, the last one for +Inf, and the sum as double bits. */
	size_t nbounds;
	double bounds[METRICS_MAX_BUCKETS];
	uint64_t counts[METRICS_MAX_BUCKETS + 1];
	uint64_t sum;
	double (*read)(void *ctx);
	void (*read_hist)(struct metric_hist_sample *out, void *ctx);
	void *ctx;
	struct metric *next;
};

struct family {
	char name[METRICS_MAX_NAME];
	char *help;
	enum metric_type type;
	double bounds[METRICS_MAX_BUCKETS];
	size_t nbounds;
	struct metric *first, *last;
	struct family *next;
};

struct metrics {
	pthread_mutex_t lock;
	struct family *first, *last;
};

int metrics_new(struct metrics **out)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	pthread_mutex_init(&m->lock, NULL);
	*out = m;
	return 0;
}

void metrics_free(struct metrics *m)
{
	struct family *f, *fnext;
	struct metric *s, *snext;

	if (m == NULL)
		return;
	for (f = m->first; f != NULL; f = fnext) {
		fnext = f->next;
		for (s = f->first; s != NULL; s = snext) {
			snext = s->next;
			free(s);
		}
		free(f->help);
		free(f);
	}
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static bool name_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (!first && c >= '0' && c <= '9');
}

static bool valid_name(const char *name, bool colon)
{
	size_t n = strlen(name);

	if (n == 0 || n >= METRICS_MAX_NAME)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!name_char(name[i], i == 0) && !(colon && name[i] == ':'))
			return false;
	return true;
}

/* name="value"(,name="value")*, values escaped as the format wants (\\, \", \n). */
static bool valid_labels(const char *l)
{
	const char *p = l;

	if (strlen(l) >= METRICS_MAX_LABELS)
		return false;
	while (*p != '\0') {
		const char *start = p;

		while (name_char(*p, p == start))
			p++;
		if (p == start || (p - start >= 2 && start[0] == '_' && start[1] == '_') || *p++ != '=' || *p++ != '"')
			return false;
		for (; *p != '"'; p++) {
			if (*p == '\0' || *p == '\n')
				return false;
			if (*p == '\\' && *++p != '\\' && *p != '"' && *p != 'n')
				return false;
		}
		p++;
		if (*p == ',' && p[1] != '\0')
			p++;
		else if (*p != '\0')
			return false;
	}
	return true;
}

static bool valid_help(const char *help)
{
	return help[0] != '\0' && strchr(help, '\n') == NULL && strchr(help, '\\') == NULL;
}

/* The family `name`, created if new; TL_E_INPUT if it exists with another shape. Under lock. */
static int family_get(struct family **out, struct metrics *m, const char *name, const char *help, enum metric_type type,
	const double *bounds, size_t nbounds)
{
	struct family *f;
	size_t n = strlen(name);

	for (f = m->first; f != NULL; f = f->next) {
		if (strcmp(f->name, name) != 0)
			continue;
		if (f->type != type || strcmp(f->help, help) != 0 || f->nbounds != nbounds ||
		    (nbounds > 0 && memcmp(f->bounds, bounds, nbounds * sizeof(*bounds)) != 0))
			return tl_error_set(TL_E_INPUT, "metric %s: registered again with another type, help or buckets",
				name);
		*out = f;
		return 0;
	}
	/* Names a histogram's series take, or that the format reserves, are refused for others. */
	if (type == METRIC_COUNTER && (n < 6 || strcmp(name + n - 6, "_total") != 0))
		return tl_error_set(TL_E_INPUT, "metric %s: a counter's name ends in _total", name);
	if (type != METRIC_COUNTER && n >= 6 && strcmp(name + n - 6, "_total") == 0)
		return tl_error_set(TL_E_INPUT, "metric %s: only counters end in _total", name);
	if ((f = calloc(1, sizeof(*f))) == NULL || (f->help = strdup(help)) == NULL) {
		free(f);
		return tl_error_set(TL_E_NOMEM, "out of memory");
	}
	memcpy(f->name, name, n + 1);
	f->type = type;
	f->nbounds = nbounds;
	if (nbounds > 0)
		memcpy(f->bounds, bounds, nbounds * sizeof(*bounds));
	if (m->last != NULL)
		m->last->next = f;
	else
		m->first = f;
	m->last = f;
	*out = f;
	return 0;
}

/* What a registration asks for: the type, a histogram's buckets, and for a sampled series
 * its reader. */
struct spec {
	enum metric_type type;
	const double *bounds;
	size_t nbounds;
	double (*read)(void *ctx);
	void (*read_hist)(struct metric_hist_sample *out, void *ctx);
	void *ctx;
};

static int add_series(struct metric **out, struct metrics *m, const char *name, const char *help, const char *labels,
	const struct spec *sp)
{
	struct family *f = NULL;
	struct metric *s = NULL;
	int err;

	if (labels == NULL)
		labels = "";
	if (!valid_name(name, true) || !valid_labels(labels) || !valid_help(help))
		return tl_error_set(TL_E_INPUT, "metric %s{%s}: bad name, labels or help", name, labels);
	if (sp->type == METRIC_HISTOGRAM) {
		if (sp->nbounds == 0 || sp->nbounds > METRICS_MAX_BUCKETS)
			return tl_error_set(TL_E_INPUT, "metric %s: 1 to %d buckets", name, METRICS_MAX_BUCKETS);
		for (size_t i = 0; i < sp->nbounds; i++)
			if (!isfinite(sp->bounds[i]) || (i > 0 && sp->bounds[i] <= sp->bounds[i - 1]))
				return tl_error_set(TL_E_INPUT, "metric %s: bucket bounds must increase", name);
		if (strstr(labels, "le=\"") == labels || strstr(labels, ",le=\"") != NULL)
			return tl_error_set(TL_E_INPUT, "metric %s: the label le is the histogram's", name);
	}
	pthread_mutex_lock(&m->lock);
	if ((err = family_get(&f, m, name, help, sp->type, sp->bounds, sp->nbounds)) != 0)
		goto out;
	for (struct metric *o = f->first; o != NULL; o = o->next)
		if (strcmp(o->labels, labels) == 0) {
			err = tl_error_set(TL_E_INPUT, "metric %s{%s}: registered twice", name, labels);
			goto out;
		}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
		goto out;
	}
	s->type = sp->type;
	memcpy(s->labels, labels, strlen(labels) + 1); /* valid_labels checked the length */
	s->nbounds = sp->nbounds;
	if (sp->nbounds > 0)
		memcpy(s->bounds, sp->bounds, sp->nbounds * sizeof(*sp->bounds));
	s->read = sp->read;
	s->read_hist = sp->read_hist;
	s->ctx = sp->ctx;
	if (f->last != NULL)
		f->last->next = s;
	else
		f->first = s;
	f->last = s;
	if (out != NULL)
		*out = s;
	s = NULL;
out:
	pthread_mutex_unlock(&m->lock);
	free(s);
	return err;
}

int metrics_counter(struct metric **out, struct metrics *m, const char *name, const char *help, const char *labels)
{
	return add_series(out, m, name, help, labels, &(struct spec){ .type = METRIC_COUNTER });
}

int metrics_gauge(struct metric **out, struct metrics *m, const char *name, const char *help, const char *labels)
{
	return add_series(out, m, name, help, labels, &(struct spec){ .type = METRIC_GAUGE });
}

int metrics_histogram(struct metric **out, struct metrics *m, const char *name, const char *help, const char *labels,
	const double *bounds, size_t nbounds)
{
	return add_series(out, m, name, help, labels,
		&(struct spec){ .type = METRIC_HISTOGRAM, .bounds = bounds, .nbounds = nbounds });
}

int metrics_sampled(struct metrics *m, enum metric_type type, const char *name, const char *help, const char *labels,
	double (*read)(void *ctx), void *ctx)
{
	if (type == METRIC_HISTOGRAM)
		return tl_error_set(TL_E_INPUT, "metric %s: use metrics_sampled_histogram", name);
	return add_series(NULL, m, name, help, labels, &(struct spec){ .type = type, .read = read, .ctx = ctx });
}

int metrics_sampled_histogram(struct metrics *m, const char *name, const char *help, const char *labels,
	const double *bounds, size_t nbounds, void (*read)(struct metric_hist_sample *out, void *ctx), void *ctx)
{
	return add_series(NULL, m, name, help, labels,
		&(struct spec){ .type = METRIC_HISTOGRAM, .bounds = bounds, .nbounds = nbounds, .read_hist = read,
			.ctx = ctx });
}

static double bits_double(uint64_t bits)
{
	double d;

	memcpy(&d, &bits, sizeof(d));
	return d;
}

static uint64_t double_bits(double d)
{
	uint64_t bits;

	memcpy(&bits, &d, sizeof(d));
	return bits;
}

static void add_double(uint64_t *cell, double delta)
{
	uint64_t old = __atomic_load_n(cell, __ATOMIC_RELAXED);

	while (!__atomic_compare_exchange_n(cell, &old, double_bits(bits_double(old) + delta), true, __ATOMIC_RELAXED,
		__ATOMIC_RELAXED)) {
	}
}

void metric_add(struct metric *s, uint64_t n)
{
	if (s->type != METRIC_COUNTER)
		abort();
	__atomic_add_fetch(&s->value, n, __ATOMIC_RELAXED);
}

void metric_inc(struct metric *s)
{
	metric_add(s, 1);
}

void metric_set(struct metric *s, double v)
{
	if (s->type != METRIC_GAUGE)
		abort();
	__atomic_store_n(&s->value, double_bits(v), __ATOMIC_RELAXED);
}

void metric_gauge_add(struct metric *s, double delta)
{
	if (s->type != METRIC_GAUGE)
		abort();
	add_double(&s->value, delta);
}

void metric_observe(struct metric *s, double v)
{
	size_t i = 0;

	if (s->type != METRIC_HISTOGRAM)
		abort();
	if (isnan(v))
		return;
	while (i < s->nbounds && v > s->bounds[i])
		i++;
	__atomic_add_fetch(&s->counts[i], 1, __ATOMIC_RELAXED);
	add_double(&s->sum, v);
}

/* The shortest %g spelling that reads back as v (0.0005, not 0.00050000000000000001). */
static void shortest(char *text, size_t cap, double v)
{
	for (int digits = 15; digits <= 17; digits++) {
		snprintf(text, cap, "%.*g", digits, v);
		if (strtod(text, NULL) == v)
			return;
	}
}

/* A number as the format writes it: integers without a fraction, others with enough digits
 * to round-trip, and the format's spellings of the infinities. */
static int put_number(tl_buf *out, double v)
{
	if (isnan(v))
		return tl_buf_append_str(out, "NaN");
	if (isinf(v))
		return tl_buf_append_str(out, v > 0 ? "+Inf" : "-Inf");
	if (v == floor(v) && fabs(v) < 9007199254740992.0)
		return tl_buf_printf(out, "%.0f", v);
	{
		char text[32];

		shortest(text, sizeof(text), v);
		return tl_buf_append_str(out, text);
	}
}

static int put_sample(tl_buf *out, const char *name, const char *suffix, const char *labels, const char *extra,
	double v)
{
	bool any = labels[0] != '\0' || extra != NULL;
	int err;

	if ((err = tl_buf_printf(out, "%s%s%s%s%s%s%s ", name, suffix, any ? "{" : "", labels,
		     labels[0] != '\0' && extra != NULL ? "," : "", extra != NULL ? extra : "", any ? "}" : "")) != 0)
		return err;
	if ((err = put_number(out, v)) != 0)
		return err;
	return tl_buf_append_str(out, "\n");
}

static int put_histogram(tl_buf *out, const struct family *f, const struct metric *s)
{
	struct metric_hist_sample h;
	uint64_t cum = 0;
	char le[64];
	int err;

	memset(&h, 0, sizeof(h));
	if (s->read_hist != NULL) {
		s->read_hist(&h, s->ctx);
	} else {
		for (size_t i = 0; i < s->nbounds; i++)
			h.counts[i] = __atomic_load_n(&s->counts[i], __ATOMIC_RELAXED);
		h.over = __atomic_load_n(&s->counts[s->nbounds], __ATOMIC_RELAXED);
		h.sum = bits_double(__atomic_load_n(&s->sum, __ATOMIC_RELAXED));
	}
	for (size_t i = 0; i <= s->nbounds; i++) {
		cum += i < s->nbounds ? h.counts[i] : h.over;
		if (i < s->nbounds) {
			char bound[32];

			shortest(bound, sizeof(bound), s->bounds[i]);
			snprintf(le, sizeof(le), "le=\"%s\"", bound);
		} else {
			snprintf(le, sizeof(le), "le=\"+Inf\"");
		}
		if ((err = put_sample(out, f->name, "_bucket", s->labels, le, (double)cum)) != 0)
			return err;
	}
	if ((err = put_sample(out, f->name, "_sum", s->labels, NULL, h.sum)) != 0)
		return err;
	return put_sample(out, f->name, "_count", s->labels, NULL, (double)cum);
}

static int put_series(tl_buf *out, const struct family *f, const struct metric *s)
{
	double v;

	if (s->type == METRIC_HISTOGRAM)
		return put_histogram(out, f, s);
	if (s->read != NULL)
		v = s->read(s->ctx);
	else if (s->type == METRIC_COUNTER)
		v = (double)__atomic_load_n(&s->value, __ATOMIC_RELAXED);
	else
		v = bits_double(__atomic_load_n(&s->value, __ATOMIC_RELAXED));
	return put_sample(out, f->name, "", s->labels, NULL, v);
}

int metrics_render(tl_buf *out, struct metrics *m)
{
	static const char *const types[] = { "counter", "gauge", "histogram" };
	int err = 0;

	pthread_mutex_lock(&m->lock);
	for (const struct family *f = m->first; f != NULL; f = f->next) {
		if ((err = tl_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name,
			     types[f->type])) != 0)
			goto out;
		for (const struct metric *s = f->first; s != NULL; s = s->next)
			if ((err = put_series(out, f, s)) != 0)
				goto out;
	}
out:
	pthread_mutex_unlock(&m->lock);
	return err;
}

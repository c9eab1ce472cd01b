/*
 * Connections per client address, so that one client holding many connections is refused
 * while every other client is still served. A chained hash table under one mutex: it is
 * touched once when a connection is accepted and once when it closes, never per request.
 */
#include "httpd_internal.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define NBUCKETS 4096

struct entry {
	struct entry *next;
	uint8_t key[16];
	unsigned count;
};

struct bd_httpd_addrs {
	pthread_mutex_t mu;
	struct entry *buckets[NBUCKETS];
};

/* IPv4 addresses are keyed as their IPv4-mapped IPv6 form, so both families share a key space. */
static void key_of(uint8_t key[16], const struct sockaddr_storage *ss)
{
	memset(key, 0, 16);
	if (ss->ss_family == AF_INET6) {
		memcpy(key, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
	} else if (ss->ss_family == AF_INET) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	}
}

static struct entry **slot(bd_httpd_addrs *a, const uint8_t key[16])
{
	uint32_t h = 2166136261u;
	struct entry **e;

	for (int i = 0; i < 16; i++)
		h = (h ^ key[i]) * 16777619u;
	for (e = &a->buckets[h % NBUCKETS]; *e != NULL; e = &(*e)->next)
		if (memcmp((*e)->key, key, 16) == 0)
			break;
	return e;
}

int bd_httpd__addrs_new(bd_httpd_addrs **out)
{
	bd_httpd_addrs *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	pthread_mutex_init(&a->mu, NULL);
	*out = a;
	return 0;
}

void bd_httpd__addrs_free(bd_httpd_addrs *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < NBUCKETS; i++) {
		while (a->buckets[i] != NULL) {
			struct entry *e = a->buckets[i];

			a->buckets[i] = e->next;
			free(e);
		}
	}
	pthread_mutex_destroy(&a->mu);
	free(a);
}

bool bd_httpd__addrs_take(bd_httpd_addrs *a, const struct sockaddr_storage *addr, unsigned max)
{
	uint8_t key[16];
	struct entry **e;
	bool ok = false;

	key_of(key, addr);
	pthread_mutex_lock(&a->mu);
	e = slot(a, key);
	if (*e == NULL && (*e = calloc(1, sizeof(**e))) != NULL)
		memcpy((*e)->key, key, 16);
	if (*e != NULL && (*e)->count < max) {
		(*e)->count++;
		ok = true;
	}
	pthread_mutex_unlock(&a->mu);
	return ok;
}

void bd_httpd__addrs_give(bd_httpd_addrs *a, const struct sockaddr_storage *addr)
{
	uint8_t key[16];
	struct entry **e, *gone = NULL;

	key_of(key, addr);
	pthread_mutex_lock(&a->mu);
	e = slot(a, key);
	if (*e != NULL && --(*e)->count == 0) {
		gone = *e;
		*e = gone->next;
	}
	pthread_mutex_unlock(&a->mu);
	free(gone);
}

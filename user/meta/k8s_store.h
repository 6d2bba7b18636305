/* The pods of this node and the Services of the cluster, as the API client
 * last saw them, for the capture thread to name spans with. One writer (the
 * API threads) and readers (the capture thread) share it under a mutex held
 * only for a hash lookup and a copy: lookups copy into the caller's struct,
 * nothing points into the store. A re-list fills a fresh set without the
 * lock and swaps it in whole, so objects deleted while the watch was down
 * vanish. Bounded: objects beyond the caps are refused and counted. */
#ifndef SOCKSPAN_K8S_STORE_H
#define SOCKSPAN_K8S_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meta/k8s_pod.h"
#include "meta/k8s_watch.h"

/* Pods of one node: kubelet runs 110 by default, a few hundred at most
 * (~3.6 KiB each, 15 MiB at the cap). */
#define K8S_STORE_MAX_PODS 4096
/* Services of the whole cluster (~300 bytes each, 5 MiB at the cap). */
#define K8S_STORE_MAX_SERVICES 16384

enum k8s_kind { K8S_PODS, K8S_SERVICES };

/* Objects of one kind with their indexes; not locked: a re-list's own. */
struct k8s_set;

struct k8s_store;

enum k8s_peer { K8S_PEER_NONE, K8S_PEER_POD, K8S_PEER_SERVICE };

struct k8s_store_stats {
	uint64_t pods, services; /* held now */
	uint64_t dropped_full;   /* objects refused: their set was at its cap */
};

/* caps: K8S_STORE_MAX_* (tests pass smaller ones). NULL on ENOMEM. */
struct k8s_store *k8s_store_new(size_t max_pods, size_t max_services);
void k8s_store_free(struct k8s_store *st);

/* A set for a re-list, empty, with the store's cap for that kind. NULL on ENOMEM. */
struct k8s_set *k8s_set_new(struct k8s_store *st, enum k8s_kind kind);
void k8s_set_free(struct k8s_set *s);
/* Adds or replaces (same uid; same namespace and name). Returns 0, or -1
 * when the set is full or out of memory (counted in dropped_full). */
int k8s_set_put_pod(struct k8s_set *s, const struct k8s_pod *p);
int k8s_set_put_service(struct k8s_set *s, const struct k8s_service *svc);
/* Replaces the store's set of that kind by s (taken; the old one is freed). */
void k8s_store_replace(struct k8s_store *st, struct k8s_set *s);

/* Watch events, applied to the current set under the lock; as k8s_set_put_*. */
int k8s_store_put_pod(struct k8s_store *st, const struct k8s_pod *p);
int k8s_store_put_service(struct k8s_store *st, const struct k8s_service *svc);
void k8s_store_delete_pod(struct k8s_store *st, const char *uid);
void k8s_store_delete_service(struct k8s_store *st, const char *ns, const char *name);

/* Lookups: true with a copy in *out. uid and cid lowercase, as
 * k8s_cgroup_parse gives them. */
bool k8s_store_pod(struct k8s_store *st, const char *uid, struct k8s_pod *out);
bool k8s_store_pod_by_container(struct k8s_store *st, const char *cid, struct k8s_pod *out);
/* The pod (not on the host network, not finished) or Service with that
 * address (IPv4-mapped IPv6 is taken as IPv4); a copy in *pod or *svc. */
enum k8s_peer k8s_store_by_ip(struct k8s_store *st, uint8_t family, const uint8_t addr[16], struct k8s_pod *pod,
			      struct k8s_service *svc);

/* Calls fn on every pod, under the lock: fn must be quick and must not
 * call the store. */
void k8s_store_each_pod(struct k8s_store *st, void (*fn)(const struct k8s_pod *p, void *ctx), void *ctx);

/* Changes with every change: a reader's cached answers are stale when it
 * moved. Lock-free. */
uint64_t k8s_store_generation(const struct k8s_store *st);
void k8s_store_stats(struct k8s_store *st, struct k8s_store_stats *out);

#endif

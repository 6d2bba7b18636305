/* The Kubernetes API client: two threads of their own (pods of this node,
 * Services of the cluster), each listing (paginated) then watching from the
 * list's resourceVersion with bookmarks, the stream parsed line by line as
 * it arrives, into the store. A watch that ends is resumed where it was; a
 * 410 Gone, an overlong line or a broken stream means listing again;
 * failures are retried with capped, jittered exponential backoff. Nothing
 * here ever waits for the capture thread, nor makes it wait. */
#ifndef SOCKSPAN_K8S_CLIENT_H
#define SOCKSPAN_K8S_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "meta/k8s_config.h"
#include "meta/k8s_pod.h"
#include "meta/k8s_store.h"

/* A watch line longer than this (one object: a pod is a few KiB) drops the
 * connection, and the list is made again. */
#define K8S_LINE_MAX K8S_OBJECT_MAX
/* Objects asked for per list page. */
#define K8S_LIST_LIMIT 250
/* Retry delays: doubled from the first to the cap, each one jittered to 50-100%. */
#define K8S_BACKOFF_FIRST_MS 250
#define K8S_BACKOFF_MAX_MS 30000
/* The server ends a watch after this long; the client resumes it. */
#define K8S_WATCH_TIMEOUT_S 300

struct k8s_client_counters {
	uint64_t watch_restarts;   /* watches started again after one ended or broke */
	uint64_t relists;          /* lists made again (410 Gone, overlong line, broken stream) */
	uint64_t api_errors;       /* requests that failed: connection, TLS, HTTP status, undecodable answer */
	uint64_t objects_rejected; /* objects refused by the parsers */
	uint64_t lines_too_long;   /* watch lines over K8S_LINE_MAX */
};

struct k8s_client;

/* Call before any other thread starts (it initialises libcurl). cfg is
 * taken (freed by k8s_client_stop, or here on failure); node: this node's name (the pods
 * listed); pod_opts (labels to keep) must outlive the client. Nothing is
 * asked of the API server before k8s_client_start. Returns NULL with a
 * reason in err. */
struct k8s_client *k8s_client_new(struct k8s_config *cfg, const char *node, struct k8s_store *store,
				  const struct k8s_pod_opts *pod_opts, char *err, size_t errcap);
/* Starts the two watcher threads (they inherit this thread's capabilities).
 * Returns 0, or -1 with a reason in err (k8s_client_stop still frees). */
int k8s_client_start(struct k8s_client *c, char *err, size_t errcap);
/* Stops both threads promptly (transfers are aborted) and frees; NULL is fine. */
void k8s_client_stop(struct k8s_client *c);
/* Any thread. */
void k8s_client_counters(const struct k8s_client *c, struct k8s_client_counters *out);

#endif

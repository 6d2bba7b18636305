/* The rest of what the API client reads: Service objects, list pages and
 * watch events (one JSON object per line of a watch stream). Pure parsers
 * of hostile input, like k8s_pod.h. */
#ifndef SOCKSPAN_K8S_WATCH_H
#define SOCKSPAN_K8S_WATCH_H

#include <stddef.h>

#include "meta/k8s_fields.h"

/* ClusterIPs: two with dual stack. */
#define K8S_SERVICE_MAX_IPS 4
/* Resource versions are opaque to clients; the API server's are decimal. */
#define K8S_RV_MAX 64
/* A list's continue token: base64 of the server's own state. */
#define K8S_CONTINUE_MAX 4096

struct k8s_service {
	char ns[K8S_LABEL_MAX + 1];
	char name[K8S_LABEL_MAX + 1];
	struct k8s_ip ips[K8S_SERVICE_MAX_IPS]; /* spec.clusterIPs; none for headless ("None") */
	unsigned nips;
};

/* The Service in obj. Returns 0 with *out filled, or -1 with a reason in err. */
int k8s_service_from_json(const cJSON *obj, struct k8s_service *out, char *err, size_t errcap);
/* The same from len bytes of JSON (at most K8S_OBJECT_MAX). */
int k8s_service_parse(const char *buf, size_t len, struct k8s_service *out, char *err, size_t errcap);

/* A page of a list (PodList, ServiceList), at most K8S_LIST_MAX bytes. */
struct k8s_list {
	cJSON *root;                   /* owned: k8s_list_free */
	const cJSON *items;            /* an array in root */
	char rv[K8S_RV_MAX + 1];       /* metadata.resourceVersion: where a watch starts */
	char cont[K8S_CONTINUE_MAX + 1]; /* metadata.continue: "" on the last page */
};

/* Returns 0 with *l filled (free it), or -1 with a reason in err (nothing to free). */
int k8s_list_parse(const char *buf, size_t len, struct k8s_list *l, char *err, size_t errcap);
void k8s_list_free(struct k8s_list *l);

enum k8s_watch_type {
	K8S_WATCH_ADDED,
	K8S_WATCH_MODIFIED,
	K8S_WATCH_DELETED,
	K8S_WATCH_BOOKMARK, /* only the object's resourceVersion matters */
	K8S_WATCH_ERROR,    /* object is a Status; code 410 (Gone): list again */
};

struct k8s_watch_event {
	enum k8s_watch_type type;
	cJSON *root;                /* owned: k8s_watch_event_free */
	const cJSON *object;        /* in root */
	char rv[K8S_RV_MAX + 1];    /* the object's metadata.resourceVersion; "" for ERROR */
	int code;                   /* ERROR: the Status's code (0 if it has none) */
};

/* One line of a watch stream (without its newline). Returns 0 with *ev
 * filled (free it), or -1 with a reason in err (nothing to free). */
int k8s_watch_parse(const char *buf, size_t len, struct k8s_watch_event *ev, char *err, size_t errcap);
void k8s_watch_event_free(struct k8s_watch_event *ev);

#endif

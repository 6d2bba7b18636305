/* A Pod object from the Kubernetes API (JSON), reduced to what names spans:
 * who it is, where it runs, its addresses, its containers and the workload
 * that owns it. A pure parser: bounded record, every field checked, a
 * reason for whatever is refused. */
#ifndef SOCKSPAN_K8S_POD_H
#define SOCKSPAN_K8S_POD_H

#include <stdbool.h>
#include <stddef.h>

#include "meta/k8s_cgroup.h"
#include "meta/k8s_fields.h"

/* Dual stack gives two; more would be a hostile object. */
#define K8S_POD_MAX_IPS 4
/* Containers, init containers included, kept per pod; the rest are counted. */
#define K8S_POD_MAX_CONTAINERS 16
/* Labels kept per pod: those a name template reads ({label:KEY}, 4 at most)
 * and those pod selectors compare (--selector, 4 keys at most). */
#define K8S_POD_MAX_LABELS 8
/* The annotation that names a pod's service, whatever the template says. */
#define K8S_SERVICE_ANNOTATION "sockspan.io/service-name"

enum k8s_phase { K8S_PHASE_UNKNOWN, K8S_PHASE_PENDING, K8S_PHASE_RUNNING, K8S_PHASE_SUCCEEDED, K8S_PHASE_FAILED };

/* The workload a pod belongs to, from its controller owner reference. */
enum k8s_workload {
	K8S_WORKLOAD_NONE,        /* no controller: the pod itself */
	K8S_WORKLOAD_DEPLOYMENT,  /* a ReplicaSet named <deployment>-<pod-template-hash> */
	K8S_WORKLOAD_REPLICASET,  /* one whose name does not end with the pod's hash */
	K8S_WORKLOAD_STATEFULSET,
	K8S_WORKLOAD_DAEMONSET,
	K8S_WORKLOAD_CRONJOB,     /* a Job named <cronjob>-<scheduled minute since 1970> */
	K8S_WORKLOAD_JOB,
	K8S_WORKLOAD_OTHER,       /* another kind: its name as it is */
};

struct k8s_container {
	char name[K8S_LABEL_MAX + 1];
	char id[K8S_CONTAINER_ID_LEN + 1]; /* lowercase hex; "" until it runs */
};

struct k8s_pod {
	char ns[K8S_LABEL_MAX + 1];
	char name[K8S_NAME_MAX + 1];
	char uid[K8S_UID_LEN + 1];         /* lowercase, as k8s_cgroup_parse gives it */
	char node[K8S_NAME_MAX + 1];       /* "" while unscheduled */
	enum k8s_phase phase;
	bool host_network;                 /* its IPs are the node's: they name no pod */
	enum k8s_workload workload_kind;
	char workload[K8S_NAME_MAX + 1];   /* the workload's name; the pod's name when none */
	char service_name[K8S_LABEL_MAX + 1]; /* K8S_SERVICE_ANNOTATION when valid, else "" */
	struct k8s_ip ips[K8S_POD_MAX_IPS];
	unsigned nips;
	char labels[K8S_POD_MAX_LABELS][K8S_LABEL_MAX + 1]; /* values of opts->labels, in order */
	unsigned labels_set;               /* bit i: labels[i] is there */
	struct k8s_container containers[K8S_POD_MAX_CONTAINERS];
	unsigned ncontainers;
	unsigned containers_dropped;       /* beyond K8S_POD_MAX_CONTAINERS */
};

struct k8s_pod_opts {
	const char *const *labels; /* keys whose values to keep (at most K8S_POD_MAX_LABELS) */
	size_t nlabels;
};

/* The pod in obj (a decoded Pod). Returns 0 with *out filled, or -1 with a
 * reason in err (out is then unspecified). opts may be NULL (no labels). */
int k8s_pod_from_json(const cJSON *obj, const struct k8s_pod_opts *opts, struct k8s_pod *out, char *err,
		      size_t errcap);
/* The same from len bytes of JSON (at most K8S_OBJECT_MAX). */
int k8s_pod_parse(const char *buf, size_t len, const struct k8s_pod_opts *opts, struct k8s_pod *out, char *err,
		  size_t errcap);

/* The container with that id (64 lowercase hex), or NULL. */
const struct k8s_container *k8s_pod_container(const struct k8s_pod *p, const char *id);

/* The span tag that names a workload of that kind ("k8s.deployment.name"...);
 * NULL for NONE and OTHER, which have none. */
const char *k8s_workload_tag(enum k8s_workload w);

#endif

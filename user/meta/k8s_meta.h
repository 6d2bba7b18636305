/* Who a connection's process is in Kubernetes, for the span stage: its
 * cgroup id -> cgroup path -> pod uid and container id (k8s_cgroup.h) ->
 * the pod in the store -> a service name and k8s.* tags; and which pod or
 * Service a peer address is. Used by the capture thread only; answers per
 * cgroup are cached (bounded) until the store changes; a cgroup whose path
 * is not found yet is asked again (cgroup_path.h walks at most once a
 * second). A process in no known pod gets no name from here: the span keeps
 * its process name. */
#ifndef SOCKSPAN_K8S_META_H
#define SOCKSPAN_K8S_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meta/cgroup_path.h"
#include "meta/k8s_name.h"
#include "meta/k8s_store.h"

/* Cgroups whose answers are kept (direct-mapped by id, ~1.3 KiB each). */
#define K8S_META_CACHE 1024

struct k8s_ident {
	bool known;                               /* the API knows the pod: every field below is set */
	char pod_uid[K8S_UID_LEN + 1];            /* from the cgroup */
	char container_id[K8S_CONTAINER_ID_LEN + 1]; /* from the cgroup; "" for the pod's own */
	char service[K8S_SERVICE_NAME_MAX];
	char ns[K8S_LABEL_MAX + 1];
	char pod[K8S_NAME_MAX + 1];
	char container[K8S_LABEL_MAX + 1];        /* "" when the pod does not list it (yet) */
	char node[K8S_NAME_MAX + 1];
	const char *workload_tag;                 /* k8s_workload_tag(), or NULL */
	char workload[K8S_NAME_MAX + 1];
};

struct k8s_meta;

/* store: NULL when no API server is configured (said once on stderr when a
 * pod's process is first seen). tmpl must outlive the meta. NULL on ENOMEM. */
struct k8s_meta *k8s_meta_new(struct k8s_store *store, const struct k8s_template *tmpl);
void k8s_meta_free(struct k8s_meta *m);

/* The pod of the process in cgroup id, or NULL when the cgroup is no pod's.
 * Valid until the next call. */
const struct k8s_ident *k8s_meta_local(struct k8s_meta *m, uint64_t cgroup_id);

/* What finding cgroups' paths cost: walks of the cgroup v2 tree, and the
 * cgroups they left out. */
void k8s_meta_cgroup_stats(const struct k8s_meta *m, struct cgroup_path_stats *out);

/* The service name of a peer: the pod with that address, named as a local
 * one would be (without a container), or "<namespace>.<name>" of the
 * Service with that ClusterIP. Returns false (out untouched) when neither. */
bool k8s_meta_remote(struct k8s_meta *m, uint8_t family, const uint8_t addr[16], char *out, size_t cap);

#endif

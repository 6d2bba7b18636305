/* Which Kubernetes pod and container a cgroup v2 path belongs to, read from
 * kubelet's two layouts (a pure parser: the path is hostile input):
 *
 *   cgroupfs driver: /kubepods[/burstable|/besteffort]/pod<uid>/<container id>
 *   systemd driver:  /kubepods.slice[/kubepods-<qos>.slice]/kubepods[-<qos>]-pod<uid, '_' for '-'>.slice
 *                    /<cri-containerd|crio|docker>-<container id>.scope
 *
 * Guaranteed pods sit right under kubepods. The kubepods component may come
 * after other ones (kubelet's --cgroup-root, a node in a container) and, with
 * systemd, carry a prefix ("kubelet-kubepods.slice" and its children
 * "kubelet-kubepods-...", as kind makes them). A uid is 8-4-4-4-12 hex digits;
 * a container id 64 hex digits. Anything else is not a pod: never a guess. */
#ifndef SOCKSPAN_K8S_CGROUP_H
#define SOCKSPAN_K8S_CGROUP_H

#include <stdbool.h>
#include <stddef.h>

enum k8s_qos { K8S_QOS_GUARANTEED, K8S_QOS_BURSTABLE, K8S_QOS_BESTEFFORT };

enum k8s_runtime {
	K8S_RUNTIME_UNSAID,     /* cgroupfs layout: the path does not name it */
	K8S_RUNTIME_CONTAINERD,
	K8S_RUNTIME_CRIO,
	K8S_RUNTIME_DOCKER,
};

#define K8S_UID_LEN 36
#define K8S_CONTAINER_ID_LEN 64

struct k8s_cgroup {
	enum k8s_qos qos;
	enum k8s_runtime runtime;
	char pod_uid[K8S_UID_LEN + 1];                /* lowercase, with '-' */
	char container_id[K8S_CONTAINER_ID_LEN + 1]; /* lowercase; "" for the pod's own cgroup or a
						      * child that is not a container (crio's conmon) */
};

/* path: len bytes, a cgroup v2 path as /proc/PID/cgroup gives it after "0::".
 * Returns 1 with *out filled when it is a pod's cgroup or one under it, 0
 * when it is not (*out is then unspecified). */
int k8s_cgroup_parse(const char *path, size_t len, struct k8s_cgroup *out);

/* p[0..n): an 8-4-4-4-12 hex uid with sep between the groups. Returns true
 * with it copied to out lowercase with '-'; false (out untouched) otherwise. */
bool k8s_take_uid(const char *p, size_t n, char sep, char out[K8S_UID_LEN + 1]);
/* p[0..n): 64 hex digits. Returns true with them copied to out lowercase;
 * false (out untouched) otherwise. */
bool k8s_take_container_id(const char *p, size_t n, char out[K8S_CONTAINER_ID_LEN + 1]);

/* The name of a runtime ("containerd", "cri-o", "docker"), or NULL. */
const char *k8s_runtime_name(enum k8s_runtime r);

#endif

#include "meta/k8s_pod.h"

#include <stdio.h>
#include <string.h>

/* A CronJob's Job is <name>-<minutes since 1970>: 8 digits from 1989 to 2160.
 * Fewer digits read as a Job's own name ("migrate-2"), not a schedule. */
#define CRONJOB_SUFFIX_MIN_DIGITS 8
#define CRONJOB_SUFFIX_MAX_DIGITS 10

/* Fields of metadata: a pod's identity, refused when any is missing or malformed. */
static int take_metadata(const cJSON *meta, struct k8s_pod *out, char *err, size_t errcap)
{
	const char *uid;
	int r;

	if (!meta)
		return k8s_fail(err, errcap, "metadata", "missing or not an object");
	r = k8s_take(meta, "namespace", "metadata.namespace", K8S_CHECK_LABEL, out->ns, sizeof(out->ns), err, errcap);
	if (r)
		return r < 0 ? r : k8s_fail(err, errcap, "metadata.namespace", "missing");
	r = k8s_take(meta, "name", "metadata.name", K8S_CHECK_SUBDOMAIN, out->name, sizeof(out->name), err, errcap);
	if (r)
		return r < 0 ? r : k8s_fail(err, errcap, "metadata.name", "missing");
	uid = k8s_string(meta, "uid");
	if (!uid || !k8s_take_uid(uid, strlen(uid), '-', out->uid))
		return k8s_fail(err, errcap, "metadata.uid", "missing or not a uid");
	return 0;
}

/* The wanted labels' values, and pod-template-hash (into hash). */
static int take_labels(const cJSON *meta, const struct k8s_pod_opts *o, struct k8s_pod *out, char *hash,
		       size_t hashcap, char *err, size_t errcap)
{
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(meta, "labels");
	size_t n = o ? o->nlabels : 0;

	hash[0] = '\0';
	if (!labels || cJSON_IsNull(labels))
		return 0;
	if (!cJSON_IsObject(labels))
		return k8s_fail(err, errcap, "metadata.labels", "not an object");
	if (k8s_take(labels, "pod-template-hash", "metadata.labels.pod-template-hash", K8S_CHECK_LABEL_VALUE, hash,
		     hashcap, err, errcap) < 0)
		return -1;
	for (size_t i = 0; i < n && i < K8S_POD_MAX_LABELS; i++) {
		int r = k8s_take(labels, o->labels[i], "metadata.labels", K8S_CHECK_LABEL_VALUE, out->labels[i],
				 sizeof(out->labels[i]), err, errcap);

		if (r < 0)
			return r;
		if (r == 0)
			out->labels_set |= 1u << i;
	}
	return 0;
}

/* The annotation is set by any user, and the API server does not check it:
 * a malformed one is ignored, the pod is still named. */
static void take_service_annotation(const cJSON *meta, struct k8s_pod *out)
{
	const cJSON *ann = k8s_object(meta, "annotations");
	const char *v = k8s_string(ann, K8S_SERVICE_ANNOTATION);
	size_t n = v ? strlen(v) : 0;

	out->service_name[0] = '\0';
	if (n && n < sizeof(out->service_name) && k8s_check(K8S_CHECK_LABEL_VALUE, v))
		memcpy(out->service_name, v, n + 1);
}

/* name cut at its '-' at, unless what is left is no DNS subdomain (a
 * hostile owner "web--<hash>" would leave "web-"); true if it was cut. */
static bool cut_at(char *name, size_t at)
{
	name[at] = '\0';
	if (k8s_check(K8S_CHECK_SUBDOMAIN, name))
		return true;
	name[at] = '-';
	return false;
}

/* name with "-<suffix>" cut off when it ends so; true if it did. */
static bool cut_suffix(char *name, const char *suffix)
{
	size_t n = strlen(name), k = strlen(suffix);

	if (k == 0 || n < k + 2 || name[n - k - 1] != '-' || memcmp(name + n - k, suffix, k) != 0)
		return false;
	return cut_at(name, n - k - 1);
}

/* name with its "-<digits>" scheduled-time suffix cut off, when it has one. */
static bool cut_schedule(char *name)
{
	size_t n = strlen(name), d = 0;

	while (d < n && name[n - 1 - d] >= '0' && name[n - 1 - d] <= '9')
		d++;
	if (d < CRONJOB_SUFFIX_MIN_DIGITS || d > CRONJOB_SUFFIX_MAX_DIGITS || n < d + 2 || name[n - d - 1] != '-')
		return false;
	return cut_at(name, n - d - 1);
}

static const struct {
	const char *kind;
	enum k8s_workload w;
} owner_kinds[] = {
	{ "ReplicaSet", K8S_WORKLOAD_REPLICASET },   { "StatefulSet", K8S_WORKLOAD_STATEFULSET },
	{ "DaemonSet", K8S_WORKLOAD_DAEMONSET },     { "Job", K8S_WORKLOAD_JOB },
};

/* The controller among ownerReferences names the workload; none: the pod. */
static int take_workload(const cJSON *meta, const char *hash, struct k8s_pod *out, char *err, size_t errcap)
{
	const cJSON *refs = cJSON_GetObjectItemCaseSensitive(meta, "ownerReferences"), *ref;
	char kind[K8S_KIND_MAX + 1];

	out->workload_kind = K8S_WORKLOAD_NONE;
	memcpy(out->workload, out->name, sizeof(out->workload));
	if (!refs || cJSON_IsNull(refs))
		return 0;
	if (!cJSON_IsArray(refs))
		return k8s_fail(err, errcap, "metadata.ownerReferences", "not an array");
	cJSON_ArrayForEach(ref, refs) {
		if (!cJSON_IsObject(ref))
			return k8s_fail(err, errcap, "metadata.ownerReferences[]", "not an object");
		if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ref, "controller")))
			continue;
		if (k8s_take(ref, "kind", "metadata.ownerReferences[].kind", K8S_CHECK_KIND, kind, sizeof(kind), err,
			     errcap) != 0 ||
		    k8s_take(ref, "name", "metadata.ownerReferences[].name", K8S_CHECK_SUBDOMAIN, out->workload,
			     sizeof(out->workload), err, errcap) != 0)
			return k8s_fail(err, errcap, "metadata.ownerReferences[]", "controller without a valid kind and name");
		out->workload_kind = K8S_WORKLOAD_OTHER;
		for (size_t i = 0; i < sizeof(owner_kinds) / sizeof(owner_kinds[0]); i++)
			if (strcmp(kind, owner_kinds[i].kind) == 0)
				out->workload_kind = owner_kinds[i].w;
		if (out->workload_kind == K8S_WORKLOAD_REPLICASET && cut_suffix(out->workload, hash))
			out->workload_kind = K8S_WORKLOAD_DEPLOYMENT;
		else if (out->workload_kind == K8S_WORKLOAD_JOB && cut_schedule(out->workload))
			out->workload_kind = K8S_WORKLOAD_CRONJOB;
		return 0;
	}
	return 0;
}

static int add_ip(struct k8s_pod *out, const char *s, const char *path, char *err, size_t errcap)
{
	struct k8s_ip ip;

	if (!s || !k8s_take_ip(s, &ip))
		return k8s_fail(err, errcap, path, "not an IP address");
	for (unsigned i = 0; i < out->nips; i++)
		if (memcmp(&out->ips[i], &ip, sizeof(ip)) == 0)
			return 0;
	if (out->nips == K8S_POD_MAX_IPS)
		return k8s_fail(err, errcap, path, "too many addresses");
	out->ips[out->nips++] = ip;
	return 0;
}

/* status.podIPs, else status.podIP (servers older than dual stack). */
static int take_ips(const cJSON *status, struct k8s_pod *out, char *err, size_t errcap)
{
	const cJSON *ips = cJSON_GetObjectItemCaseSensitive(status, "podIPs"), *e;
	const char *one = k8s_string(status, "podIP");

	if (ips && !cJSON_IsNull(ips)) {
		if (!cJSON_IsArray(ips))
			return k8s_fail(err, errcap, "status.podIPs", "not an array");
		cJSON_ArrayForEach(e, ips)
			if (add_ip(out, k8s_string(e, "ip"), "status.podIPs[].ip", err, errcap))
				return -1;
	}
	if (one && *one && add_ip(out, one, "status.podIP", err, errcap))
		return -1;
	return 0;
}

/* "<runtime>://<64 hex>" as containerd, cri-o and docker write it. */
static int take_container_id(const char *s, char *out, char *err, size_t errcap)
{
	const char *sep = s ? strstr(s, "://") : NULL;

	out[0] = '\0';
	if (!s || !*s)
		return 0;
	if (!sep || sep == s || sep - s > K8S_KIND_MAX)
		return k8s_fail(err, errcap, "status.containerStatuses[].containerID", "not <runtime>://<id>");
	for (const char *p = s; p < sep; p++)
		if (!((*p >= 'a' && *p <= 'z') || *p == '-'))
			return k8s_fail(err, errcap, "status.containerStatuses[].containerID", "bad runtime name");
	if (!k8s_take_container_id(sep + 3, strlen(sep + 3), out))
		return k8s_fail(err, errcap, "status.containerStatuses[].containerID", "id is not 64 hex digits");
	return 0;
}

static int take_containers(const cJSON *status, const char *key, struct k8s_pod *out, char *err, size_t errcap)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(status, key), *c;
	struct k8s_container k;

	if (!list || cJSON_IsNull(list))
		return 0;
	if (!cJSON_IsArray(list))
		return k8s_fail(err, errcap, key, "not an array");
	cJSON_ArrayForEach(c, list) {
		if (k8s_take(c, "name", "status.containerStatuses[].name", K8S_CHECK_LABEL, k.name, sizeof(k.name), err,
			     errcap) != 0)
			return k8s_fail(err, errcap, "status.containerStatuses[].name", "missing or malformed");
		if (take_container_id(k8s_string(c, "containerID"), k.id, err, errcap))
			return -1;
		if (out->ncontainers == K8S_POD_MAX_CONTAINERS)
			out->containers_dropped++;
		else
			out->containers[out->ncontainers++] = k;
	}
	return 0;
}

static const char *const phases[] = {
	[K8S_PHASE_PENDING] = "Pending", [K8S_PHASE_RUNNING] = "Running",
	[K8S_PHASE_SUCCEEDED] = "Succeeded", [K8S_PHASE_FAILED] = "Failed",
};

static int take_status(const cJSON *obj, struct k8s_pod *out, char *err, size_t errcap)
{
	const cJSON *status = cJSON_GetObjectItemCaseSensitive(obj, "status");
	const char *phase;

	out->phase = K8S_PHASE_UNKNOWN;
	if (!status || cJSON_IsNull(status))
		return 0;
	if (!cJSON_IsObject(status))
		return k8s_fail(err, errcap, "status", "not an object");
	phase = k8s_string(status, "phase");
	for (enum k8s_phase p = K8S_PHASE_PENDING; phase && p <= K8S_PHASE_FAILED; p++)
		if (strcmp(phase, phases[p]) == 0)
			out->phase = p;
	if (take_ips(status, out, err, errcap) || take_containers(status, "initContainerStatuses", out, err, errcap) ||
	    take_containers(status, "containerStatuses", out, err, errcap))
		return -1;
	return 0;
}

int k8s_pod_from_json(const cJSON *obj, const struct k8s_pod_opts *opts, struct k8s_pod *out, char *err,
		      size_t errcap)
{
	const cJSON *meta = k8s_object(obj, "metadata"), *spec;
	char hash[K8S_LABEL_MAX + 1];

	memset(out, 0, sizeof(*out));
	if (!cJSON_IsObject(obj))
		return k8s_fail(err, errcap, "pod", "not an object");
	if (opts && opts->nlabels > K8S_POD_MAX_LABELS)
		return k8s_fail(err, errcap, "options", "too many labels");
	if (take_metadata(meta, out, err, errcap) || take_labels(meta, opts, out, hash, sizeof(hash), err, errcap))
		return -1;
	take_service_annotation(meta, out);
	if (take_workload(meta, hash, out, err, errcap))
		return -1;
	spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
	if (spec && !cJSON_IsNull(spec) && !cJSON_IsObject(spec))
		return k8s_fail(err, errcap, "spec", "not an object");
	if (k8s_take(spec, "nodeName", "spec.nodeName", K8S_CHECK_SUBDOMAIN, out->node, sizeof(out->node), err,
		     errcap) < 0)
		return -1;
	out->host_network = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(spec, "hostNetwork"));
	return take_status(obj, out, err, errcap);
}

int k8s_pod_parse(const char *buf, size_t len, const struct k8s_pod_opts *opts, struct k8s_pod *out, char *err,
		  size_t errcap)
{
	cJSON *root = k8s_json_parse(buf, len, K8S_OBJECT_MAX, "pod", err, errcap);
	int r;

	if (!root)
		return -1;
	r = k8s_pod_from_json(root, opts, out, err, errcap);
	cJSON_Delete(root);
	return r;
}

const struct k8s_container *k8s_pod_container(const struct k8s_pod *p, const char *id)
{
	for (unsigned i = 0; i < p->ncontainers; i++)
		if (p->containers[i].id[0] && strcmp(p->containers[i].id, id) == 0)
			return &p->containers[i];
	return NULL;
}

const char *k8s_workload_tag(enum k8s_workload w)
{
	switch (w) {
	case K8S_WORKLOAD_DEPLOYMENT:
		return "k8s.deployment.name";
	case K8S_WORKLOAD_REPLICASET:
		return "k8s.replicaset.name";
	case K8S_WORKLOAD_STATEFULSET:
		return "k8s.statefulset.name";
	case K8S_WORKLOAD_DAEMONSET:
		return "k8s.daemonset.name";
	case K8S_WORKLOAD_CRONJOB:
		return "k8s.cronjob.name";
	case K8S_WORKLOAD_JOB:
		return "k8s.job.name";
	default:
		return NULL;
	}
}

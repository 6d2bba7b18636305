#include "meta/k8s_watch.h"

#include <string.h>

static int add_cluster_ip(struct k8s_service *out, const char *s, char *err, size_t errcap)
{
	struct k8s_ip ip;

	if (!s)
		return k8s_fail(err, errcap, "spec.clusterIPs[]", "not a string");
	/* Headless services have no address of their own. */
	if (!*s || strcmp(s, "None") == 0)
		return 0;
	if (!k8s_take_ip(s, &ip))
		return k8s_fail(err, errcap, "spec.clusterIPs[]", "not an IP address");
	for (unsigned i = 0; i < out->nips; i++)
		if (memcmp(&out->ips[i], &ip, sizeof(ip)) == 0)
			return 0;
	if (out->nips == K8S_SERVICE_MAX_IPS)
		return k8s_fail(err, errcap, "spec.clusterIPs", "too many addresses");
	out->ips[out->nips++] = ip;
	return 0;
}

int k8s_service_from_json(const cJSON *obj, struct k8s_service *out, char *err, size_t errcap)
{
	const cJSON *meta = k8s_object(obj, "metadata"), *spec = k8s_object(obj, "spec"), *ips, *e;
	const char *one;

	memset(out, 0, sizeof(*out));
	if (!meta)
		return k8s_fail(err, errcap, "metadata", "missing or not an object");
	if (k8s_take(meta, "namespace", "metadata.namespace", K8S_CHECK_LABEL, out->ns, sizeof(out->ns), err,
		     errcap) != 0 ||
	    k8s_take(meta, "name", "metadata.name", K8S_CHECK_LABEL, out->name, sizeof(out->name), err, errcap) != 0)
		return k8s_fail(err, errcap, "metadata", "namespace and name must be DNS-1123 labels");
	ips = cJSON_GetObjectItemCaseSensitive(spec, "clusterIPs");
	if (ips && !cJSON_IsNull(ips)) {
		if (!cJSON_IsArray(ips))
			return k8s_fail(err, errcap, "spec.clusterIPs", "not an array");
		cJSON_ArrayForEach(e, ips)
			if (add_cluster_ip(out, cJSON_IsString(e) ? e->valuestring : NULL, err, errcap))
				return -1;
	}
	/* Servers older than dual stack give clusterIP alone. */
	one = k8s_string(spec, "clusterIP");
	if (one && add_cluster_ip(out, one, err, errcap))
		return -1;
	return 0;
}

int k8s_service_parse(const char *buf, size_t len, struct k8s_service *out, char *err, size_t errcap)
{
	cJSON *root = k8s_json_parse(buf, len, K8S_OBJECT_MAX, "service", err, errcap);
	int r;

	if (!root)
		return -1;
	r = k8s_service_from_json(root, out, err, errcap);
	cJSON_Delete(root);
	return r;
}

/* metadata.resourceVersion of obj into rv; a missing one is "". */
static int take_rv(const cJSON *obj, char rv[K8S_RV_MAX + 1], char *err, size_t errcap)
{
	return k8s_take(k8s_object(obj, "metadata"), "resourceVersion", "metadata.resourceVersion", K8S_CHECK_TOKEN,
			rv, K8S_RV_MAX + 1, err, errcap) < 0
		       ? -1
		       : 0;
}

int k8s_list_parse(const char *buf, size_t len, struct k8s_list *l, char *err, size_t errcap)
{
	int r;

	memset(l, 0, sizeof(*l));
	l->root = k8s_json_parse(buf, len, K8S_LIST_MAX, "list", err, errcap);
	if (!l->root)
		return -1;
	l->items = k8s_array(l->root, "items");
	if (!l->items)
		r = k8s_fail(err, errcap, "items", "missing or not an array");
	else if (take_rv(l->root, l->rv, err, errcap) ||
		 k8s_take(k8s_object(l->root, "metadata"), "continue", "metadata.continue", K8S_CHECK_TOKEN, l->cont,
			  sizeof(l->cont), err, errcap) < 0)
		r = -1;
	else if (!l->rv[0])
		r = k8s_fail(err, errcap, "metadata.resourceVersion", "missing");
	else
		return 0;
	k8s_list_free(l);
	return r;
}

void k8s_list_free(struct k8s_list *l)
{
	cJSON_Delete(l->root);
	l->root = NULL;
	l->items = NULL;
}

static const char *const watch_types[] = {
	[K8S_WATCH_ADDED] = "ADDED",       [K8S_WATCH_MODIFIED] = "MODIFIED", [K8S_WATCH_DELETED] = "DELETED",
	[K8S_WATCH_BOOKMARK] = "BOOKMARK", [K8S_WATCH_ERROR] = "ERROR",
};

int k8s_watch_parse(const char *buf, size_t len, struct k8s_watch_event *ev, char *err, size_t errcap)
{
	const char *type;
	const cJSON *code;
	int t = -1;

	memset(ev, 0, sizeof(*ev));
	ev->root = k8s_json_parse(buf, len, K8S_OBJECT_MAX, "watch event", err, errcap);
	if (!ev->root)
		return -1;
	type = k8s_string(ev->root, "type");
	for (int i = 0; type && i <= K8S_WATCH_ERROR; i++)
		if (strcmp(type, watch_types[i]) == 0)
			t = i;
	ev->object = k8s_object(ev->root, "object");
	if (t < 0 || !ev->object) {
		k8s_watch_event_free(ev);
		return k8s_fail(err, errcap, "watch event", "no known type with an object");
	}
	ev->type = t;
	if (t == K8S_WATCH_ERROR) {
		code = cJSON_GetObjectItemCaseSensitive(ev->object, "code");
		if (cJSON_IsNumber(code) && code->valuedouble >= 0 && code->valuedouble < 1000)
			ev->code = (int)code->valuedouble;
		return 0;
	}
	if (take_rv(ev->object, ev->rv, err, errcap)) {
		k8s_watch_event_free(ev);
		return -1;
	}
	return 0;
}

void k8s_watch_event_free(struct k8s_watch_event *ev)
{
	cJSON_Delete(ev->root);
	ev->root = NULL;
	ev->object = NULL;
}

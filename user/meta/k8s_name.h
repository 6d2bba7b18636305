/* Service names of pods from a template (--service-name-template):
 * placeholders {namespace}, {workload}, {pod}, {container}, {label:KEY};
 * anything else is copied as it is. */
#ifndef SOCKSPAN_K8S_NAME_H
#define SOCKSPAN_K8S_NAME_H

#include <stddef.h>

#include "meta/k8s_pod.h"

#define K8S_TEMPLATE_DEFAULT "{namespace}.{workload}"
#define K8S_TEMPLATE_MAX 256
/* A rendered name (serviceName is cut shorter by the span model). */
#define K8S_SERVICE_NAME_MAX 128
/* {label:KEY} placeholders of one template; a pod keeps their values first. */
#define K8S_TEMPLATE_MAX_LABELS 4

struct k8s_template {
	char text[K8S_TEMPLATE_MAX];
	char keys[K8S_TEMPLATE_MAX_LABELS][K8S_LABEL_KEY_MAX + 1]; /* of the {label:KEY} placeholders */
	const char *labels[K8S_TEMPLATE_MAX_LABELS];               /* keys[i], for k8s_pod_opts */
	size_t nlabels;
};

/* Checks s and fills *t. Returns 0, or -1 with a reason in err: an unknown
 * or unclosed placeholder, a label key Kubernetes would refuse, more than
 * K8S_TEMPLATE_MAX_LABELS labels, too long. */
int k8s_template_parse(const char *s, struct k8s_template *t, char *err, size_t errcap);

/* The labels a pod parser must keep for t (at the start of the pod's labels). */
struct k8s_pod_opts k8s_template_pod_opts(const struct k8s_template *t);

/* The name of pod p (parsed with k8s_template_pod_opts(t)), container its
 * container's name or NULL: the pod's K8S_SERVICE_ANNOTATION when it has
 * one, else t rendered, else (a label or the container missing)
 * K8S_TEMPLATE_DEFAULT rendered. */
void k8s_service_name(const struct k8s_template *t, const struct k8s_pod *p, const char *container, char *out,
		      size_t cap);

#endif

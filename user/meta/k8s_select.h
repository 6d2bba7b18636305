/* Which pods of the node to trace (--namespace, --pod, --selector,
 * --exclude-namespace): a pure decision on a pod record. A pod is selected
 * when it matches one of the positive options (any pod when there are none)
 * and its namespace is not excluded. A --selector is label equality, every
 * key=value of it matching; several --selector are ORed. */
#ifndef SOCKSPAN_K8S_SELECT_H
#define SOCKSPAN_K8S_SELECT_H

#include <stdbool.h>
#include <stddef.h>

#include "meta/k8s_name.h"
#include "meta/k8s_pod.h"

/* Values of each option: a command line, not a policy engine. */
#define K8S_SELECT_MAX 32
/* key=value pairs of one --selector. */
#define K8S_SELECT_MAX_TERMS 8
/* Distinct label keys over every --selector: each is kept per pod. */
#define K8S_SELECT_MAX_KEYS (K8S_POD_MAX_LABELS - K8S_TEMPLATE_MAX_LABELS)

enum k8s_select_kind {
	K8S_SELECT_NAMESPACE,         /* NS */
	K8S_SELECT_POD,               /* NS/NAME */
	K8S_SELECT_LABELS,            /* key=value[,key=value...] */
	K8S_SELECT_EXCLUDE_NAMESPACE, /* NS */
};

struct k8s_label_term {
	unsigned key; /* index in keys */
	char value[K8S_LABEL_MAX + 1];
};

struct k8s_select {
	char namespaces[K8S_SELECT_MAX][K8S_LABEL_MAX + 1];
	size_t nnamespaces;
	struct {
		char ns[K8S_LABEL_MAX + 1];
		char name[K8S_NAME_MAX + 1];
	} pods[K8S_SELECT_MAX];
	size_t npods;
	struct {
		struct k8s_label_term terms[K8S_SELECT_MAX_TERMS];
		unsigned nterms;
	} selectors[K8S_SELECT_MAX];
	size_t nselectors;
	char excluded[K8S_SELECT_MAX][K8S_LABEL_MAX + 1];
	size_t nexcluded;
	char keys[K8S_SELECT_MAX_KEYS][K8S_LABEL_KEY_MAX + 1];
	size_t nkeys;
};

/* One option's value, checked as Kubernetes checks names, into s. Returns
 * 0, or -1 with a reason in err (malformed, too many). */
int k8s_select_add(struct k8s_select *s, enum k8s_select_kind kind, const char *arg, char *err, size_t errcap);

/* Any option given: only selected pods are traced. */
bool k8s_select_active(const struct k8s_select *s);

/* The labels a pod parser keeps: t's, then s's keys, into keys (the
 * returned options point there). */
struct k8s_pod_opts k8s_select_pod_opts(const struct k8s_select *s, const struct k8s_template *t,
					const char *keys[K8S_POD_MAX_LABELS]);

/* Is p selected? p parsed with k8s_select_pod_opts(s, t): s's keys start at
 * label_base (t->nlabels). */
bool k8s_select_match(const struct k8s_select *s, const struct k8s_pod *p, size_t label_base);

#endif

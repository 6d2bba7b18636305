#include "meta/k8s_select.h"

#include <stdio.h>
#include <string.h>

static const char *const kind_names[] = {
	[K8S_SELECT_NAMESPACE] = "--namespace",
	[K8S_SELECT_POD] = "--pod",
	[K8S_SELECT_LABELS] = "--selector",
	[K8S_SELECT_EXCLUDE_NAMESPACE] = "--exclude-namespace",
};

/* s[0..n) into out (cap bytes with the NUL) when it fits and has form c. */
static bool take(const char *s, size_t n, enum k8s_check c, char *out, size_t cap)
{
	if (n >= cap)
		return false;
	memcpy(out, s, n);
	out[n] = '\0';
	return k8s_check(c, out);
}

/* The index of key k[0..n) in s->keys, added when new; -1 when malformed or
 * one key too many. */
static int key_index(struct k8s_select *s, const char *k, size_t n)
{
	char key[K8S_LABEL_KEY_MAX + 1];

	if (!take(k, n, K8S_CHECK_LABEL_KEY, key, sizeof(key)))
		return -1;
	for (size_t i = 0; i < s->nkeys; i++)
		if (strcmp(s->keys[i], key) == 0)
			return (int)i;
	if (s->nkeys == K8S_SELECT_MAX_KEYS)
		return -1;
	memcpy(s->keys[s->nkeys], key, sizeof(key));
	return (int)s->nkeys++;
}

/* "key=value[,key=value...]" as one more selector; the keys it added stay
 * only when all of it is good. */
static int add_labels(struct k8s_select *s, const char *arg, char *err, size_t errcap)
{
	size_t nkeys = s->nkeys;
	unsigned n = 0;
	struct k8s_label_term *terms = s->selectors[s->nselectors].terms;

	for (const char *p = arg;; p++) {
		const char *comma = strchr(p, ','), *end = comma ? comma : p + strlen(p);
		const char *eq = memchr(p, '=', (size_t)(end - p));
		int key = eq ? key_index(s, p, (size_t)(eq - p)) : -1;

		if (n == K8S_SELECT_MAX_TERMS || key < 0 ||
		    !take(eq + 1, (size_t)(end - eq - 1), K8S_CHECK_LABEL_VALUE, terms[n].value,
			  sizeof(terms[n].value))) {
			s->nkeys = nkeys;
			return snprintf(err, errcap,
					"invalid --selector '%s' (expected key=value[,key=value...], at most %d "
					"pairs and %d distinct keys in all)",
					arg, K8S_SELECT_MAX_TERMS, K8S_SELECT_MAX_KEYS),
			       -1;
		}
		terms[n++].key = (unsigned)key;
		if (!comma)
			break;
		p = comma;
	}
	s->selectors[s->nselectors++].nterms = n;
	return 0;
}

int k8s_select_add(struct k8s_select *s, enum k8s_select_kind kind, const char *arg, char *err, size_t errcap)
{
	const char *slash;
	size_t *n = kind == K8S_SELECT_NAMESPACE ? &s->nnamespaces
		    : kind == K8S_SELECT_POD     ? &s->npods
		    : kind == K8S_SELECT_LABELS  ? &s->nselectors
						 : &s->nexcluded;

	if (*n == K8S_SELECT_MAX)
		return snprintf(err, errcap, "at most %d %s options", K8S_SELECT_MAX, kind_names[kind]), -1;
	switch (kind) {
	case K8S_SELECT_NAMESPACE:
	case K8S_SELECT_EXCLUDE_NAMESPACE: {
		char *out = kind == K8S_SELECT_NAMESPACE ? s->namespaces[*n] : s->excluded[*n];

		if (!take(arg, strlen(arg), K8S_CHECK_LABEL, out, K8S_LABEL_MAX + 1))
			return snprintf(err, errcap, "invalid %s '%s' (expected a namespace)", kind_names[kind], arg),
			       -1;
		break;
	}
	case K8S_SELECT_POD:
		slash = strchr(arg, '/');
		if (!slash || !take(arg, (size_t)(slash - arg), K8S_CHECK_LABEL, s->pods[*n].ns, sizeof(s->pods[*n].ns)) ||
		    !take(slash + 1, strlen(slash + 1), K8S_CHECK_SUBDOMAIN, s->pods[*n].name,
			  sizeof(s->pods[*n].name)))
			return snprintf(err, errcap, "invalid --pod '%s' (expected NAMESPACE/NAME)", arg), -1;
		break;
	case K8S_SELECT_LABELS:
		return add_labels(s, arg, err, errcap);
	}
	(*n)++;
	return 0;
}

bool k8s_select_active(const struct k8s_select *s)
{
	return s->nnamespaces || s->npods || s->nselectors || s->nexcluded;
}

struct k8s_pod_opts k8s_select_pod_opts(const struct k8s_select *s, const struct k8s_template *t,
					const char *keys[K8S_POD_MAX_LABELS])
{
	size_t n = 0;

	for (size_t i = 0; i < t->nlabels; i++)
		keys[n++] = t->keys[i];
	for (size_t i = 0; i < s->nkeys; i++)
		keys[n++] = s->keys[i];
	return (struct k8s_pod_opts){ keys, n };
}

static bool has_label(const struct k8s_pod *p, size_t i, const char *value)
{
	return i < K8S_POD_MAX_LABELS && (p->labels_set & (1u << i)) && strcmp(p->labels[i], value) == 0;
}

bool k8s_select_match(const struct k8s_select *s, const struct k8s_pod *p, size_t label_base)
{
	for (size_t i = 0; i < s->nexcluded; i++)
		if (strcmp(p->ns, s->excluded[i]) == 0)
			return false;
	if (!s->nnamespaces && !s->npods && !s->nselectors)
		return true;
	for (size_t i = 0; i < s->nnamespaces; i++)
		if (strcmp(p->ns, s->namespaces[i]) == 0)
			return true;
	for (size_t i = 0; i < s->npods; i++)
		if (strcmp(p->ns, s->pods[i].ns) == 0 && strcmp(p->name, s->pods[i].name) == 0)
			return true;
	for (size_t i = 0; i < s->nselectors; i++) {
		unsigned t = 0;

		while (t < s->selectors[i].nterms &&
		       has_label(p, label_base + s->selectors[i].terms[t].key, s->selectors[i].terms[t].value))
			t++;
		if (t == s->selectors[i].nterms)
			return true;
	}
	return false;
}

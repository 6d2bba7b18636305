#include "meta/k8s_name.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char *const fields[] = { "namespace", "workload", "pod", "container" };

int k8s_template_parse(const char *s, struct k8s_template *t, char *err, size_t errcap)
{
	size_t n = strlen(s);

	memset(t, 0, sizeof(*t));
	if (n == 0 || n >= sizeof(t->text))
		return snprintf(err, errcap, "empty or longer than %d", K8S_TEMPLATE_MAX - 1), -1;
	memcpy(t->text, s, n + 1);
	for (const char *p = s; *p; p++) {
		const char *end;
		size_t k;
		bool known = false;

		if (*p == '}')
			return snprintf(err, errcap, "'}' without '{'"), -1;
		if (*p != '{')
			continue;
		end = strchr(p, '}');
		if (!end)
			return snprintf(err, errcap, "'{' without '}'"), -1;
		k = (size_t)(end - p - 1);
		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
			known |= k == strlen(fields[i]) && memcmp(p + 1, fields[i], k) == 0;
		if (!known && k > 6 && memcmp(p + 1, "label:", 6) == 0) {
			if (t->nlabels == K8S_TEMPLATE_MAX_LABELS)
				return snprintf(err, errcap, "more than %d labels", K8S_TEMPLATE_MAX_LABELS), -1;
			if (k - 6 > K8S_LABEL_KEY_MAX)
				return snprintf(err, errcap, "{%.*s}: not a label key", (int)k, p + 1), -1;
			memcpy(t->keys[t->nlabels], p + 7, k - 6);
			t->keys[t->nlabels][k - 6] = '\0';
			if (!k8s_check(K8S_CHECK_LABEL_KEY, t->keys[t->nlabels]))
				return snprintf(err, errcap, "{%.*s}: not a label key", (int)k, p + 1), -1;
			t->labels[t->nlabels] = t->keys[t->nlabels];
			t->nlabels++;
			known = true;
		}
		if (!known)
			return snprintf(err, errcap, "unknown placeholder {%.*s}", (int)k, p + 1), -1;
		p = end;
	}
	return 0;
}

struct k8s_pod_opts k8s_template_pod_opts(const struct k8s_template *t)
{
	return (struct k8s_pod_opts){ t->labels, t->nlabels };
}

/* The value of the placeholder p[0..k) (checked by k8s_template_parse), or NULL. */
static const char *value_of(const struct k8s_template *t, const struct k8s_pod *pod, const char *container,
			    const char *p, size_t k)
{
	const char *const values[] = { pod->ns, pod->workload, pod->name, container };

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (k == strlen(fields[i]) && memcmp(p, fields[i], k) == 0)
			return values[i] && *values[i] ? values[i] : NULL;
	for (size_t i = 0; k > 6 && i < t->nlabels; i++)
		if (k - 6 == strlen(t->keys[i]) && memcmp(p + 6, t->keys[i], k - 6) == 0)
			return pod->labels_set & (1u << i) && pod->labels[i][0] ? pod->labels[i] : NULL;
	return NULL;
}

/* Returns 0, or -1 when a placeholder has no value. */
static int render(const struct k8s_template *t, const char *text, const struct k8s_pod *pod, const char *container,
		  char *out, size_t cap)
{
	size_t o = 0;

	for (const char *p = text; *p; p++) {
		const char *v = p, *end;
		size_t n = 1;

		if (*p == '{') {
			end = strchr(p, '}');
			v = value_of(t, pod, container, p + 1, (size_t)(end - p - 1));
			if (!v)
				return -1;
			n = strlen(v);
			p = end;
		}
		if (o + n >= cap)
			n = cap - 1 - o;
		memcpy(out + o, v, n);
		o += n;
	}
	out[o] = '\0';
	return 0;
}

void k8s_service_name(const struct k8s_template *t, const struct k8s_pod *p, const char *container, char *out,
		      size_t cap)
{
	if (p->service_name[0]) {
		snprintf(out, cap, "%s", p->service_name);
		return;
	}
	if (render(t, t->text, p, container, out, cap))
		render(t, K8S_TEMPLATE_DEFAULT, p, container, out, cap);
}

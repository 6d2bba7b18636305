/* Checked fields of Kubernetes API objects (JSON from the API server, or
 * from whoever answers in its place: hostile input). Each string is taken
 * only when it has the form Kubernetes itself enforces, into a bounded
 * array; anything else is refused with a reason for a person. */
#ifndef SOCKSPAN_K8S_FIELDS_H
#define SOCKSPAN_K8S_FIELDS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define K8S_NAME_MAX 253  /* DNS-1123 subdomain: pod, node and owner names */
#define K8S_LABEL_MAX 63  /* DNS-1123 label: namespaces, services, containers; label values */
#define K8S_KIND_MAX 63   /* an owner's kind, e.g. "ReplicaSet" */
/* Label keys: an optional DNS subdomain prefix, '/', a name of 63. */
#define K8S_LABEL_KEY_MAX 317
/* An API object or a watch line is refused above this: a pod is a few KiB. */
#define K8S_OBJECT_MAX (4u << 20)
/* A list page (the client asks for K8S_LIST_LIMIT objects a page). */
#define K8S_LIST_MAX (32u << 20)
/* Reasons for refusing an object: a field's path and what is wrong with it. */
#define K8S_ERR_MAX 160

/* What a string field must look like. */
enum k8s_check {
	K8S_CHECK_LABEL,       /* DNS-1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 */
	K8S_CHECK_SUBDOMAIN,   /* DNS-1123 subdomain: labels joined by '.', at most 253 */
	K8S_CHECK_LABEL_VALUE, /* "" or [A-Za-z0-9._-], alphanumeric at both ends, at most 63 */
	K8S_CHECK_KIND,        /* [A-Za-z][A-Za-z0-9]*, at most 63 */
	K8S_CHECK_TOKEN,       /* resource versions, continue tokens: printable ASCII, no space */
	K8S_CHECK_LABEL_KEY,   /* [prefix/]name: prefix a subdomain, name a non-empty label value */
};

struct k8s_ip {
	uint8_t family;   /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network order; IPv4 in the first 4 bytes, the rest zero */
};

/* Is s (NUL-terminated) of that form? */
bool k8s_check(enum k8s_check c, const char *s);

/* The string obj[key] (path names it in messages, e.g. "metadata.name"):
 * returns 0 with it copied to out (cap bytes with the NUL) when it is a
 * string of form c that fits; 1 with out "" when it is missing or null; -1
 * with a reason in err when it is not a string, too long or malformed. */
int k8s_take(const cJSON *obj, const char *key, const char *path, enum k8s_check c, char *out, size_t cap,
	     char *err, size_t errcap);

/* A textual IPv4 or IPv6 address (inet_pton's forms). Returns true with *out set. */
bool k8s_take_ip(const char *s, struct k8s_ip *out);

/* A socket's address as the API writes it: IPv4-mapped IPv6 becomes IPv4.
 * Returns false for another family (out is then zeroed). */
bool k8s_ip_of(uint8_t family, const uint8_t addr[16], struct k8s_ip *out);

/* obj[key] as an object, array or string, or NULL when it is missing or of another type. */
const cJSON *k8s_object(const cJSON *obj, const char *key);
const cJSON *k8s_array(const cJSON *obj, const char *key);
const char *k8s_string(const cJSON *obj, const char *key);

/* len bytes of JSON (at most max) decoded: the tree (cJSON_Delete it), or
 * NULL with a reason naming what in err. */
cJSON *k8s_json_parse(const char *buf, size_t len, size_t max, const char *what, char *err, size_t errcap);

/* Sets err to "<path>: <what>"; returns -1 (for "return k8s_fail(...)"). */
int k8s_fail(char *err, size_t errcap, const char *path, const char *what);

#endif

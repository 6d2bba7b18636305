#include "meta/k8s_fields.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* Resource versions are decimal today; continue tokens are base64 of a few hundred bytes. */
#define K8S_TOKEN_MAX 4096

static bool lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool alnum(char c)
{
	return lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* s[0..n) as one DNS-1123 label. */
static bool dns_label(const char *s, size_t n)
{
	if (n == 0 || n > K8S_LABEL_MAX || !lower_alnum(s[0]) || !lower_alnum(s[n - 1]))
		return false;
	for (size_t i = 1; i + 1 < n; i++)
		if (!lower_alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

static bool dns_subdomain(const char *s, size_t n)
{
	size_t start = 0;

	if (n == 0 || n > K8S_NAME_MAX)
		return false;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '.')
			continue;
		if (!dns_label(s + start, i - start))
			return false;
		start = i + 1;
	}
	return true;
}

static bool label_value(const char *s, size_t n)
{
	if (n == 0)
		return true;
	if (n > K8S_LABEL_MAX || !alnum(s[0]) || !alnum(s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return false;
	return true;
}

static bool label_key(const char *s, size_t n)
{
	const char *slash = memchr(s, '/', n);
	char prefix[K8S_NAME_MAX + 1];
	size_t pn = slash ? (size_t)(slash - s) : 0, nn = slash ? n - pn - 1 : n;

	if (n > K8S_LABEL_KEY_MAX || nn == 0 || pn > K8S_NAME_MAX || !label_value(s + n - nn, nn))
		return false;
	memcpy(prefix, s, pn);
	prefix[pn] = '\0';
	return !slash || dns_subdomain(prefix, pn);
}

bool k8s_check(enum k8s_check c, const char *s)
{
	size_t n = strlen(s);

	switch (c) {
	case K8S_CHECK_LABEL:
		return dns_label(s, n);
	case K8S_CHECK_SUBDOMAIN:
		return dns_subdomain(s, n);
	case K8S_CHECK_LABEL_VALUE:
		return label_value(s, n);
	case K8S_CHECK_KIND:
		if (n == 0 || n > K8S_KIND_MAX || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
			return false;
		for (size_t i = 0; i < n; i++)
			if (!alnum(s[i]))
				return false;
		return true;
	case K8S_CHECK_LABEL_KEY:
		return label_key(s, n);
	case K8S_CHECK_TOKEN:
		if (n > K8S_TOKEN_MAX)
			return false;
		for (size_t i = 0; i < n; i++)
			if (s[i] <= ' ' || s[i] > '~')
				return false;
		return true;
	}
	return false;
}

int k8s_fail(char *err, size_t errcap, const char *path, const char *what)
{
	if (errcap)
		snprintf(err, errcap, "%s: %s", path, what);
	return -1;
}

cJSON *k8s_json_parse(const char *buf, size_t len, size_t max, const char *what, char *err, size_t errcap)
{
	cJSON *root;

	if (len > max) {
		k8s_fail(err, errcap, what, "too large");
		return NULL;
	}
	root = cJSON_ParseWithLength(buf, len);
	if (!root)
		k8s_fail(err, errcap, what, "not JSON");
	return root;
}

int k8s_take(const cJSON *obj, const char *key, const char *path, enum k8s_check c, char *out, size_t cap,
	     char *err, size_t errcap)
{
	const cJSON *v = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
	size_t n;

	out[0] = '\0';
	if (!v || cJSON_IsNull(v))
		return 1;
	if (!cJSON_IsString(v) || !v->valuestring)
		return k8s_fail(err, errcap, path, "not a string");
	n = strlen(v->valuestring);
	if (n >= cap)
		return k8s_fail(err, errcap, path, "too long");
	if (!k8s_check(c, v->valuestring))
		return k8s_fail(err, errcap, path, "malformed");
	memcpy(out, v->valuestring, n + 1);
	return 0;
}

bool k8s_take_ip(const char *s, struct k8s_ip *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, s, out->addr) == 1) {
		out->family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, s, out->addr) == 1) {
		out->family = AF_INET6;
		return true;
	}
	return false;
}

bool k8s_ip_of(uint8_t family, const uint8_t addr[16], struct k8s_ip *out)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	memset(out, 0, sizeof(*out));
	if (family == AF_INET6 && memcmp(addr, mapped, 12) == 0) {
		out->family = AF_INET;
		memcpy(out->addr, addr + 12, 4);
	} else if (family == AF_INET || family == AF_INET6) {
		out->family = family;
		memcpy(out->addr, addr, family == AF_INET ? 4 : 16);
	}
	return out->family != 0;
}

const cJSON *k8s_object(const cJSON *obj, const char *key)
{
	const cJSON *v = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;

	return cJSON_IsObject(v) ? v : NULL;
}

const cJSON *k8s_array(const cJSON *obj, const char *key)
{
	const cJSON *v = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;

	return cJSON_IsArray(v) ? v : NULL;
}

const char *k8s_string(const cJSON *obj, const char *key)
{
	const cJSON *v = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

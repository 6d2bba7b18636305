#include "export/zipkin_exporter.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <curl/curl.h>

#include "capture/clock.h"

#define NS_PER_MS 1000000ull
#define NS_PER_S 1000000000ull
/* A collector that takes longer than this to accept a connection is treated
 * as down; the POST as a whole (a 500 KiB batch) gets longer. */
#define CONNECT_TIMEOUT_NS (5 * NS_PER_S)
#define REQUEST_TIMEOUT_NS (15 * NS_PER_S)
/* Backoff between attempts at one batch: doubles from the first value up to
 * the cap, so a collector that comes back is used again within seconds;
 * each wait is cut to a random 50-100% (jitter) so agents do not retry in step. */
#define BACKOFF_FIRST_NS (100 * NS_PER_MS)
#define BACKOFF_MAX_NS (5 * NS_PER_S)
#define USER_AGENT "sockspan"

struct zipkin_exporter {
	struct export_queue *queue;
	struct zipkin_batch batch;
	struct zipkin_buf gz;
	bool compress;
	size_t batch_bytes;
	uint64_t batch_interval_ns, retry_timeout_ns;
	CURL *curl;
	struct curl_slist *headers;
	char curl_err[CURL_ERROR_SIZE];
	pthread_t thread;
	bool started;
	int ctl_fd;                  /* eventfd: wakes the thread for the flush */
	atomic_bool flushing;
	_Atomic uint64_t flush_deadline_ns;
	uint64_t rng;                /* jitter */
	bool failing;                /* the last attempt failed: logged once per streak */
	bool status_logged[ZIPKIN_STATUS_MAX];
	struct span span;            /* the span being moved from queue to batch */
	pthread_mutex_t lock;        /* guards st */
	struct zipkin_exporter_stats st;
};

/* Names of enum zipkin_failure, for logs. */
static const char *const failure_names[ZIPKIN_FAIL__MAX] = { "connection error", "timeout", "TLS error",
							     "error" };

static bool valid_header(const char *h)
{
	const char *colon = strchr(h, ':');

	if (!colon || colon == h || strpbrk(h, "\r\n"))
		return false;
	for (const char *p = h; p < colon; p++)
		if (!isgraph((unsigned char)*p))
			return false;
	return true;
}

/* url for a message: any user:password@ before the host becomes ***@ (the
 * URL may not even parse, so by its text). */
static const char *url_for_people(const char *url, char *buf, size_t cap)
{
	const char *host = strstr(url, "://");
	size_t end, at = SIZE_MAX;

	host = host ? host + 3 : url;
	end = strcspn(host, "/?#");
	for (size_t i = 0; i < end; i++)
		if (host[i] == '@')
			at = i;
	if (at == SIZE_MAX)
		return url;
	snprintf(buf, cap, "%.*s***%s", (int)(host - url), url, host + at);
	return buf;
}

static int check_url(const char *url, char *err, size_t cap)
{
	char shown[512];
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	int rc = -1;

	if (!u) {
		snprintf(err, cap, "out of memory");
		return -1;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		snprintf(err, cap, "invalid collector URL '%s'", url_for_people(url, shown, sizeof(shown)));
	} else if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
		snprintf(err, cap, "collector URL '%s': only http:// and https:// are supported",
			 url_for_people(url, shown, sizeof(shown)));
	} else {
		rc = 0;
	}
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

static size_t discard_body(char *ptr, size_t size, size_t nmemb, void *ctx)
{
	(void)ptr;
	(void)ctx;
	return size * nmemb;
}

/* libcurl calls this during a transfer (at least once a second): a POST in
 * flight when the flush deadline passes is abandoned there. */
static int check_deadline(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	struct zipkin_exporter *e = ctx;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return atomic_load(&e->flushing) && clock_mono_now_ns() >= atomic_load(&e->flush_deadline_ns);
}

static int setup_curl(struct zipkin_exporter *e, const struct zipkin_exporter_opts *o, char *err, size_t cap)
{
	char line[128], shown[512];
	struct curl_slist *l;

	e->curl = curl_easy_init();
	if (!e->curl) {
		snprintf(err, cap, "cannot set up libcurl");
		return -1;
	}
	snprintf(line, sizeof(line), "Content-Type: %s", zipkin_content_type(o->encoding));
	/* b3: 0 tells tracing proxies on the way not to trace our exports, as
	 * Zipkin's reporters do; an empty Expect saves curl's 100-continue wait. */
	l = curl_slist_append(NULL, line);
	if (l && o->compress)
		l = curl_slist_append(l, "Content-Encoding: gzip") ? l : NULL;
	if (l)
		l = curl_slist_append(l, "b3: 0") ? l : NULL;
	if (l)
		l = curl_slist_append(l, "Expect:") ? l : NULL;
	for (size_t i = 0; l && i < o->nheaders; i++)
		l = curl_slist_append(l, o->headers[i]) ? l : NULL;
	if (!l) {
		snprintf(err, cap, "out of memory");
		return -1;
	}
	e->headers = l;
	if (curl_easy_setopt(e->curl, CURLOPT_URL, o->url) != CURLE_OK ||
	    curl_easy_setopt(e->curl, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK) {
		snprintf(err, cap, "libcurl refused the collector URL '%s'", url_for_people(o->url, shown, sizeof(shown)));
		return -1;
	}
	curl_easy_setopt(e->curl, CURLOPT_HTTPHEADER, e->headers);
	curl_easy_setopt(e->curl, CURLOPT_POST, 1L);
	/* No signals from libcurl: it runs beside capture in a threaded process. */
	curl_easy_setopt(e->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)(CONNECT_TIMEOUT_NS / NS_PER_MS));
	curl_easy_setopt(e->curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e->curl, CURLOPT_SSL_VERIFYHOST, 2L);
	if (o->ca_file)
		curl_easy_setopt(e->curl, CURLOPT_CAINFO, o->ca_file);
	curl_easy_setopt(e->curl, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e->curl, CURLOPT_USERAGENT, USER_AGENT);
	curl_easy_setopt(e->curl, CURLOPT_WRITEFUNCTION, discard_body);
	curl_easy_setopt(e->curl, CURLOPT_ERRORBUFFER, e->curl_err);
	curl_easy_setopt(e->curl, CURLOPT_XFERINFOFUNCTION, check_deadline);
	curl_easy_setopt(e->curl, CURLOPT_XFERINFODATA, e);
	curl_easy_setopt(e->curl, CURLOPT_NOPROGRESS, 0L);
	return 0;
}

static uint64_t jitter(struct zipkin_exporter *e, uint64_t ns)
{
	/* xorshift64: only spreads retries, nothing depends on its quality. */
	e->rng ^= e->rng << 13;
	e->rng ^= e->rng >> 7;
	e->rng ^= e->rng << 17;
	return ns / 2 + e->rng % (ns / 2 + 1);
}

static enum zipkin_failure classify(CURLcode c)
{
	switch (c) {
	case CURLE_OPERATION_TIMEDOUT:
		return ZIPKIN_FAIL_TIMEOUT;
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return ZIPKIN_FAIL_CONNECT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
		return ZIPKIN_FAIL_TLS;
	default:
		return ZIPKIN_FAIL_OTHER;
	}
}

static void observe_latency(struct zipkin_exporter_stats *st, double s)
{
	static const double bounds[ZIPKIN_NUM_LATENCY_BUCKETS] = ZIPKIN_LATENCY_BUCKETS;
	size_t i = 0;

	while (i < ZIPKIN_NUM_LATENCY_BUCKETS && s > bounds[i])
		i++;
	st->latency_buckets[i]++;
	st->latency_count++;
	st->latency_sum_s += s;
}

/* One POST of body. Returns the HTTP status, or 0 with *fail set. */
static long post(struct zipkin_exporter *e, const uint8_t *body, size_t len, size_t encoded_len,
		 uint64_t timeout_ns, enum zipkin_failure *fail)
{
	uint64_t t0 = clock_mono_now_ns();
	long status = 0, request_bytes = 0;
	CURLcode c;

	e->curl_err[0] = '\0';
	curl_easy_setopt(e->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(e->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	/* At least 1 ms: 0 would mean no timeout at all. */
	curl_easy_setopt(e->curl, CURLOPT_TIMEOUT_MS, (long)(timeout_ns / NS_PER_MS ? timeout_ns / NS_PER_MS : 1));
	c = curl_easy_perform(e->curl);
	if (c == CURLE_OK)
		curl_easy_getinfo(e->curl, CURLINFO_RESPONSE_CODE, &status);
	/* Head and body as written to the connection. */
	curl_easy_getinfo(e->curl, CURLINFO_REQUEST_SIZE, &request_bytes);

	pthread_mutex_lock(&e->lock);
	observe_latency(&e->st, (double)(clock_mono_now_ns() - t0) / NS_PER_S);
	e->st.bytes_encoded += encoded_len;
	e->st.bytes_sent += (uint64_t)request_bytes;
	if (c == CURLE_OK) {
		e->st.requests_by_status[status > 0 && status < ZIPKIN_STATUS_MAX ? status : 0]++;
	} else {
		*fail = classify(c);
		e->st.requests_failed[*fail]++;
	}
	e->st.reachable = status >= 200 && status < 300;
	pthread_mutex_unlock(&e->lock);
	if (c != CURLE_OK && !e->failing)
		fprintf(stderr, "sockspan: zipkin: %s: %s; retrying\n", failure_names[*fail],
			e->curl_err[0] ? e->curl_err : curl_easy_strerror(c));
	return c == CURLE_OK ? (status ? status : 1) : 0;
}

/* Waits ns, cut short by the flush deadline once the flush has begun (its
 * request wakes this wait so the deadline applies at once). */
static void backoff_sleep(struct zipkin_exporter *e, uint64_t ns)
{
	uint64_t end = clock_mono_now_ns() + ns;

	for (;;) {
		struct pollfd p = { .fd = e->ctl_fd, .events = POLLIN };
		bool flushing = atomic_load(&e->flushing);
		uint64_t now = clock_mono_now_ns(), until = end;

		if (flushing && atomic_load(&e->flush_deadline_ns) < until)
			until = atomic_load(&e->flush_deadline_ns);
		if (now >= until)
			return;
		/* Flushing: ctl_fd stays readable, so just sleep. */
		poll(&p, flushing ? 0 : 1, (int)((until - now + NS_PER_MS - 1) / NS_PER_MS));
	}
}

static void count_dropped(struct zipkin_exporter *e, uint64_t *reason, size_t n)
{
	pthread_mutex_lock(&e->lock);
	*reason += n;
	e->st.batches_dropped++;
	pthread_mutex_unlock(&e->lock);
}

/* Sends the batch until it is delivered, rejected, out of retries, or the
 * flush deadline passes. Returns false in that last case: its spans stay
 * queued and are counted at exit. */
static bool deliver(struct zipkin_exporter *e)
{
	size_t len, encoded_len, n = e->batch.nspans;
	const uint8_t *body = zipkin_batch_finish(&e->batch, &len);
	uint64_t first_failure = 0, backoff = BACKOFF_FIRST_NS;

	encoded_len = len;
	if (e->compress) {
		if (zipkin_gzip(body, len, &e->gz)) {
			count_dropped(e, &e->st.dropped_encoding, n);
			return true;
		}
		body = e->gz.data;
		len = e->gz.len;
	}
	for (;;) {
		uint64_t now = clock_mono_now_ns(), timeout = REQUEST_TIMEOUT_NS;
		enum zipkin_failure fail = ZIPKIN_FAIL_OTHER;
		long status;

		if (atomic_load(&e->flushing)) {
			uint64_t deadline = atomic_load(&e->flush_deadline_ns);

			if (now >= deadline)
				return false;
			if (deadline - now < timeout)
				timeout = deadline - now;
		}
		status = post(e, body, len, encoded_len, timeout, &fail);
		if (status >= 200 && status < 300) {
			if (e->failing)
				fprintf(stderr, "sockspan: zipkin: collector answers again (%ld)\n", status);
			e->failing = false;
			pthread_mutex_lock(&e->lock);
			e->st.spans_sent += n;
			e->st.batches_sent++;
			pthread_mutex_unlock(&e->lock);
			return true;
		}
		if (status && status != 429 && status < 500) {
			/* The collector will refuse these spans whatever we do. */
			if (!e->status_logged[status < ZIPKIN_STATUS_MAX ? status : 0]) {
				e->status_logged[status < ZIPKIN_STATUS_MAX ? status : 0] = true;
				fprintf(stderr, "sockspan: zipkin: collector answered %ld: batch dropped, not "
					"retried (logged once per status)\n", status);
			}
			e->failing = false;
			count_dropped(e, &e->st.dropped_rejected, n);
			return true;
		}
		if (status && !e->failing)
			fprintf(stderr, "sockspan: zipkin: collector answered %ld; retrying\n", status);
		e->failing = true;
		now = clock_mono_now_ns();
		if (!first_failure)
			first_failure = now;
		if (now - first_failure >= e->retry_timeout_ns) {
			fprintf(stderr, "sockspan: zipkin: batch of %zu spans dropped after retrying for %.0f s\n",
				n, (double)e->retry_timeout_ns / NS_PER_S);
			count_dropped(e, &e->st.dropped_retries, n);
			return true;
		}
		backoff_sleep(e, jitter(e, backoff));
		backoff = backoff * 2 < BACKOFF_MAX_NS ? backoff * 2 : BACKOFF_MAX_NS;
	}
}

/* Moves unread spans into the batch. Returns true when the batch is full
 * (the next span would not fit). */
static bool fill(struct zipkin_exporter *e, uint64_t *batch_start)
{
	while (export_queue_peek(e->queue, &e->span)) {
		int r = zipkin_batch_add(&e->batch, &e->span, e->batch_bytes);

		if (r == 0)
			return true;
		export_queue_advance(e->queue);
		if (r < 0) {
			pthread_mutex_lock(&e->lock);
			e->st.dropped_encoding++;
			pthread_mutex_unlock(&e->lock);
		} else if (e->batch.nspans == 1) {
			*batch_start = clock_mono_now_ns();
		}
		if (zipkin_batch_size(&e->batch) >= e->batch_bytes)
			return true;
	}
	/* Only spans that failed to encode were read: nothing to send them with. */
	if (!e->batch.nspans)
		export_queue_release(e->queue);
	return false;
}

/* Sleeps until new spans may fill the batch, its time is up, or the flush. */
static void wait_for_work(struct zipkin_exporter *e, uint64_t batch_start)
{
	struct pollfd p[2] = { { .fd = export_queue_wake_fd(e->queue), .events = POLLIN },
			       { .fd = e->ctl_fd, .events = POLLIN } };
	uint64_t want = 1; /* an empty batch starts its clock with the first span */
	int timeout_ms = -1;

	if (e->batch.nspans) {
		uint64_t now = clock_mono_now_ns(), due = batch_start + e->batch_interval_ns;

		if (now >= due)
			return;
		timeout_ms = (int)((due - now + NS_PER_MS - 1) / NS_PER_MS);
		want = e->batch_bytes - zipkin_batch_size(&e->batch);
	}
	/* Unread bytes are packed spans, not encoded ones: the estimate may wake
	 * us early, and then fill() takes what came and we wait again. */
	if (export_queue_arm(e->queue, want))
		return;
	if (atomic_load(&e->flushing))
		return;
	poll(p, 2, timeout_ms);
	export_queue_clear_wake(e->queue);
}

static void *run(void *arg)
{
	struct zipkin_exporter *e = arg;
	struct export_queue_stats qs;
	uint64_t batch_start = 0;

	for (;;) {
		bool flushing = atomic_load(&e->flushing);
		bool full = fill(e, &batch_start);

		if (e->batch.nspans &&
		    (full || flushing || clock_mono_now_ns() >= batch_start + e->batch_interval_ns)) {
			if (!deliver(e))
				break;
			export_queue_release(e->queue);
			zipkin_batch_clear(&e->batch);
			continue;
		}
		if (flushing && !e->batch.nspans && !export_queue_unread_bytes(e->queue))
			break;
		wait_for_work(e, batch_start);
	}
	/* Only the flush ends the loop; whatever is still queued is lost. */
	export_queue_stats(e->queue, &qs);
	pthread_mutex_lock(&e->lock);
	e->st.dropped_shutdown += qs.spans;
	pthread_mutex_unlock(&e->lock);
	return NULL;
}

struct zipkin_exporter *zipkin_exporter_new(const struct zipkin_exporter_opts *o, char *err, size_t cap)
{
	struct zipkin_exporter *e;

	for (size_t i = 0; i < o->nheaders; i++) {
		if (!valid_header(o->headers[i])) {
			snprintf(err, cap, "invalid --zipkin-header '%s' (expected 'Name: value')", o->headers[i]);
			return NULL;
		}
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, cap, "cannot initialise libcurl");
		return NULL;
	}
	if (check_url(o->url, err, cap)) {
		curl_global_cleanup();
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		snprintf(err, cap, "out of memory");
		curl_global_cleanup();
		return NULL;
	}
	pthread_mutex_init(&e->lock, NULL);
	e->ctl_fd = -1;
	e->compress = o->compress;
	e->batch_bytes = o->batch_bytes;
	e->batch_interval_ns = o->batch_interval_ns;
	e->retry_timeout_ns = o->retry_timeout_ns;
	e->rng = clock_mono_now_ns() ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15ull;
	e->st.reachable = true;
	e->queue = export_queue_new(o->queue_spans, o->queue_bytes);
	if (!e->queue) {
		snprintf(err, cap, "cannot allocate the export queue (%zu bytes): %s", o->queue_bytes,
			 strerror(errno));
		goto fail;
	}
	e->ctl_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (e->ctl_fd < 0 || zipkin_batch_init(&e->batch, o->encoding)) {
		snprintf(err, cap, "out of memory");
		goto fail;
	}
	if (setup_curl(e, o, err, cap))
		goto fail;
	return e;
fail:
	zipkin_exporter_free(e);
	return NULL;
}

int zipkin_exporter_start(struct zipkin_exporter *e, char *err, size_t cap)
{
	sigset_t all, old;
	int r;

	/* Signals are for the main thread: it decides when to stop. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&e->thread, NULL, run, e);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		snprintf(err, cap, "cannot start the exporter thread: %s", strerror(r));
		return -1;
	}
	e->started = true;
	return 0;
}

void zipkin_exporter_enqueue(void *ctx, const struct span *s)
{
	struct zipkin_exporter *e = ctx;

	export_queue_push(e->queue, s);
}

void zipkin_exporter_stats(struct zipkin_exporter *e, struct zipkin_exporter_stats *out)
{
	pthread_mutex_lock(&e->lock);
	*out = e->st;
	pthread_mutex_unlock(&e->lock);
	export_queue_stats(e->queue, &out->queue);
}

void zipkin_exporter_stop(struct zipkin_exporter *e, uint64_t timeout_ns)
{
	if (!e->started)
		return;
	atomic_store(&e->flush_deadline_ns, clock_mono_now_ns() + timeout_ns);
	atomic_store(&e->flushing, true);
	eventfd_write(e->ctl_fd, 1);
	pthread_join(e->thread, NULL);
	e->started = false;
}

void zipkin_exporter_free(struct zipkin_exporter *e)
{
	if (!e)
		return;
	zipkin_exporter_stop(e, 0);
	if (e->curl)
		curl_easy_cleanup(e->curl);
	curl_slist_free_all(e->headers);
	zipkin_batch_free(&e->batch);
	zipkin_buf_free(&e->gz);
	export_queue_free(e->queue);
	if (e->ctl_fd >= 0)
		close(e->ctl_fd);
	pthread_mutex_destroy(&e->lock);
	free(e);
	curl_global_cleanup();
}

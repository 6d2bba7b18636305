// SPDX-License-Identifier: MIT
/* report.c - sockspan's counters as lines for a person, on stderr. */
#include "report.h"

#include <stdio.h>

#include "view/view_store.h"

void report_export(struct zipkin_exporter *e)
{
	struct zipkin_exporter_stats st;

	zipkin_exporter_stats(e, &st);
	fprintf(stderr,
		"sockspan: export: %llu spans sent in %llu batches; dropped: %llu queue full, "
		"%llu retries exhausted, %llu rejected, %llu at shutdown, %llu unencodable\n",
		(unsigned long long)st.spans_sent, (unsigned long long)st.batches_sent,
		(unsigned long long)st.queue.dropped_full, (unsigned long long)st.dropped_retries,
		(unsigned long long)st.dropped_rejected, (unsigned long long)st.dropped_shutdown,
		(unsigned long long)st.dropped_encoding);
}

void report_exit(const struct capture *cap, const struct conn_tracker *tracker,
		 const struct sockspan_stats *stats)
{
	uint64_t k[SS_CNT__MAX], invalid = 0;

	for (int i = 0; i < TC_INVALID__COUNT; i++)
		invalid += stats->trace_context_invalid[i];
	capture_counters(cap, k);
	fprintf(stderr,
		"sockspan: %llu spans; events: %llu captured, %llu lost (ring buffer full), %llu malformed; "
		"%llu payload bytes truncated; connections: %llu seen, %zu open, %llu evicted, %llu shed; "
		"streams: %llu bytes missing, %llu resyncs, %llu unknown protocol; "
		"http1: %llu parse errors, %llu unmatched, %llu untracked; "
		"h2: %llu frame errors, %llu hpack errors, %llu streams unspanned, %llu streams untracked; "
		"redis: %llu parse errors, %llu unmatched, %llu untracked, %llu pushes; "
		"traces: %llu joined, %llu unattributed, %llu not sampled, %llu untracked, "
		"%llu invalid trace headers; reader: %llu catch-ups at normal priority\n",
		(unsigned long long)stats->spans, (unsigned long long)k[SS_CNT_EVENTS],
		(unsigned long long)k[SS_CNT_RINGBUF_LOST], (unsigned long long)capture_malformed(cap),
		(unsigned long long)k[SS_CNT_TRUNCATED_BYTES], (unsigned long long)stats->conns_opened,
		conn_tracker_count(tracker), (unsigned long long)stats->conns_evicted,
		(unsigned long long)stats->conns_shed, (unsigned long long)stats->stream_gaps,
		(unsigned long long)stats->stream_resyncs, (unsigned long long)stats->proto_unknown,
		(unsigned long long)stats->http1_parse_errors, (unsigned long long)stats->http1_unmatched,
		(unsigned long long)stats->http1_pending_overflow, (unsigned long long)stats->h2_frame_errors,
		(unsigned long long)stats->h2_hpack_errors, (unsigned long long)stats->h2_streams_unspanned,
		(unsigned long long)stats->h2_streams_overflow, (unsigned long long)stats->redis_parse_errors,
		(unsigned long long)stats->redis_unmatched, (unsigned long long)stats->redis_pending_overflow,
		(unsigned long long)stats->redis_pushes,
		(unsigned long long)stats->trace_joins, (unsigned long long)stats->spans_unattributed,
		(unsigned long long)stats->spans_not_sampled, (unsigned long long)stats->exchanges_untracked,
		(unsigned long long)invalid, (unsigned long long)stats->reader_boosts);
}

void report_stats_line(struct report_mark *m, uint64_t now_ns, const struct capture *cap,
		       const struct sockspan_stats *stats, const struct view_out *view, struct zipkin_exporter *e)
{
	uint64_t k[SS_CNT__MAX];
	double secs = (now_ns - m->ns) / 1e9;
	struct zipkin_exporter_stats es = {};

	capture_counters(cap, k);
	if (e)
		zipkin_exporter_stats(e, &es);
	fprintf(stderr,
		"sockspan: stats: %.0f events/s, %.0f spans/s, %zu traces open; dropped so far: %llu events "
		"(ring buffer full), %llu connections evicted, %llu exchanges untracked, %llu view spans; "
		"export: %llu queued, %llu dropped\n",
		(k[SS_CNT_EVENTS] - m->events) / secs, (stats->spans - m->spans) / secs,
		view->store ? view_store_open_traces(view->store) : 0, (unsigned long long)k[SS_CNT_RINGBUF_LOST],
		(unsigned long long)stats->conns_evicted, (unsigned long long)stats->exchanges_untracked,
		view->store ? (unsigned long long)view_store_stats(view->store)->spans_dropped : 0ull,
		(unsigned long long)es.queue.spans,
		(unsigned long long)(es.queue.dropped_full + es.dropped_retries + es.dropped_rejected));
	*m = (struct report_mark){ now_ns, k[SS_CNT_EVENTS], stats->spans };
}

/* report.h - what sockspan says on stderr: the exit report (every counter of
 * what was seen, dropped or refused), the exporter's, and --stats lines. */
#ifndef SOCKSPAN_REPORT_H
#define SOCKSPAN_REPORT_H

#include <stdint.h>

#include "capture/capture.h"
#include "conn/conn_tracker.h"
#include "export/zipkin_exporter.h"
#include "stats.h"
#include "view/view_out.h"

/* What --stats compares with: the counters at the last line. */
struct report_mark {
	uint64_t ns, events, spans;
};

void report_exit(const struct capture *cap, const struct conn_tracker *tracker,
		 const struct sockspan_stats *stats);
void report_export(struct zipkin_exporter *e);
/* --stats: one line of rates since m and drops so far; m moves to now. */
void report_stats_line(struct report_mark *m, uint64_t now_ns, const struct capture *cap,
		       const struct sockspan_stats *stats, const struct view_out *view, struct zipkin_exporter *e);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * view_text.h - text for a terminal, measured in the columns it takes
 * (span_copy_safe makes it harmless first): display widths
 * (combining marks 0, East Asian wide characters and emoji 2), strings
 * shortened in the middle, and durations in three significant digits.
 * Pure functions over caller buffers.
 */
#ifndef SOCKSPAN_VIEW_TEXT_H
#define SOCKSPAN_VIEW_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Enough for any view_text_duration result with its NUL. */
#define VIEW_DURATION_MAX 16

/* Columns that s (n bytes of valid UTF-8 without controls) takes. */
unsigned view_text_cols(const char *s, size_t n);

/*
 * Copy s (n bytes, valid UTF-8 without controls: span_copy_safe's output)
 * into dst (cap bytes) so that it takes at most cols columns: as it is when
 * it fits, else its start and its end around "…" (U+2026), cut on character
 * boundaries. Returns the bytes written (NUL-terminated), and the columns
 * taken in *used; an empty result when cap is too small for the shortened
 * text (cap >= 4 * cols + 4 always fits).
 */
size_t view_text_fit(char *dst, size_t cap, const char *s, size_t n, unsigned cols, unsigned *used);

/*
 * A duration in three significant digits, truncated (never rounded up to a
 * larger unit): "0µs" .. "999µs", "1.00ms" .. "999ms", "1.00s" .. "999s",
 * then hours "0.27h" .. "999h", and "999h+" beyond. Returns the length.
 */
size_t view_text_duration(char out[VIEW_DURATION_MAX], uint64_t us);

#endif

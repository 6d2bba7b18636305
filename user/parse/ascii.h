/* ascii.h - ASCII letter case and hex digits as the protocols define them
 * (never the locale's): for the parsers and whoever reads their fields. */
#ifndef SOCKSPAN_ASCII_H
#define SOCKSPAN_ASCII_H

static inline char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* A hex digit's value, in either case, or -1. */
static inline int ascii_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = ascii_lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

#endif

/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * str.h - the string helpers every part of libxenvf shares
 *
 * Parsers here take the whole string: trailing text is an error, never
 * ignored. They return 0 or a negative errno and leave *ret alone on
 * error.
 */
#ifndef XVF_UTIL_STR_H
#define XVF_UTIL_STR_H

#include <stddef.h>
#include <stdint.h>

/**
 * xvf_trim() - strip white space from both ends, in place
 * @s: a writable string
 *
 * Trailing white space is overwritten with NULs; leading white space is
 * skipped, not moved.
 *
 * Return: the first non-blank character of @s (its end if all blank).
 */
char *xvf_trim(char *s);

/**
 * xvf_trim_copy() - copy at most @n bytes of @src into @dst, trimmed
 * @dst: destination buffer
 * @len: size of @dst, at least 1
 * @src: source bytes (need not be NUL-terminated within @n)
 * @n: how many bytes of @src to look at
 *
 * For fixed-width, blank-padded fields (NVMe serial and model numbers,
 * sysfs attributes). @dst is always NUL-terminated; text that does not
 * fit is cut.
 */
void xvf_trim_copy(char *dst, size_t len, const char *src, size_t n);

/**
 * xvf_parse_ulong() - parse a decimal number, the whole string
 * @s: the text: digits only, no sign, no blanks
 * @max: the largest value accepted
 * @ret: where the value goes
 *
 * Return: 0, or -EINVAL when @s is empty, has anything but digits, or
 * is above @max (overflow included).
 */
int xvf_parse_ulong(const char *s, unsigned long max, unsigned long *ret);

/**
 * xvf_parse_mac() - parse a MAC address "xx:xx:xx:xx:xx:xx", the whole
 * string (any address: all-zero and multicast ones too)
 * @s:   the text
 * @mac: the six bytes, set only on success
 *
 * Return: 0, or -EINVAL when @s is not one.
 */
int xvf_parse_mac(const char *s, uint8_t mac[6]);

/**
 * xvf_mac_str() - a MAC address as "xx:xx:xx:xx:xx:xx"
 * @mac: the address
 * @buf: 18 bytes for the text
 *
 * Return: @buf.
 */
const char *xvf_mac_str(const uint8_t mac[6], char buf[18]);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What q_qvisor.c needs from the tc program that dlopens it, declared here
 * so the plugin builds without the iproute2 source tree.
 *
 * tc keeps these helpers in its private headers (utils.h, tc_util.h,
 * json_print.h, libnetlink.h), which no distribution packages; the tc
 * binary exports the functions themselves (Debian links it with
 * -export-dynamic).  This file states, in its own words, only the part of
 * that interface the plugin calls: the plugin descriptor tc looks up, the
 * argument-walking macros, the netlink attribute helpers, the number
 * parsers and the JSON-aware printers.
 *
 * The ABI these declarations assume holds for iproute2 6.1 (Debian 12)
 * through 7.3 (Debian unstable, 2026-12), checked on both binaries: every
 * function below is exported with this signature, struct qdisc_util is 64
 * bytes with the callbacks in this order, and the printers' "no color"
 * value is 6 (the argument tc's own inline print_uint passes).  The
 * Makefile refuses a tc outside 6.1..7.x at build time
 * (QVISOR_TC_VERSION); at load time tc/abi_check.c looks every helper up
 * in the running tc and disables the plugin with a message naming the
 * one that is missing.
 *
 * Building with -DQVISOR_IPROUTE2_HEADERS (and iproute2's include and tc
 * folders on the include path) uses iproute2's own headers instead: the
 * plugin fuzzer does, since it links iproute2's library code.  With
 * QVISOR_TC_CROSSCHECK as well, the function declarations below follow
 * iproute2's, so the compiler rejects any that disagree, and struct
 * qdisc_util is declared as struct qvisor_tc_qdisc_util for
 * selftests/host/tc_decl_check.c to compare field by field (make
 * plugin-test, when the iproute2 source is there).
 */
#ifndef QVISOR_TC_H
#define QVISOR_TC_H

#ifdef QVISOR_IPROUTE2_HEADERS
#include "utils.h"
#include "tc_util.h"
#include "tc_common.h"
#endif

#if !defined(QVISOR_IPROUTE2_HEADERS) || defined(QVISOR_TC_CROSSCHECK)
#ifdef QVISOR_TC_CROSSCHECK
#define qdisc_util qvisor_tc_qdisc_util
#endif
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/types.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

/* The plugin descriptor: tc finds "<kind>_qdisc_util" with dlsym. */
struct qdisc_util {
	struct qdisc_util *next;
	const char *id;
	int (*parse_qopt)(struct qdisc_util *qu, int argc, char **argv,
			  struct nlmsghdr *n, const char *dev);
	int (*print_qopt)(struct qdisc_util *qu, FILE *f, struct rtattr *opt);
	int (*print_xstats)(struct qdisc_util *qu, FILE *f,
			    struct rtattr *xstats);
	int (*parse_copt)(struct qdisc_util *qu, int argc, char **argv,
			  struct nlmsghdr *n, const char *dev);
	int (*print_copt)(struct qdisc_util *qu, FILE *f, struct rtattr *opt);
	int (*has_block)(struct qdisc_util *qu, struct rtattr *opt,
			 __u32 block_idx, bool *p_has);
};

#ifdef QVISOR_TC_CROSSCHECK
#undef qdisc_util
#else
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define min(a, b)	((a) < (b) ? (a) : (b))

/* Room tc gives a request message; the plugin's maxlen arguments. */
#define TCA_BUF_MAX		65536

/* Text buffers the sprint_* helpers fill. */
#define SPRINT_BSIZE		64
#define SPRINT_BUF(name)	char name[SPRINT_BSIZE]

/* Units of get_time()/sprint_time(): microseconds. */
#define TIME_UNITS_PER_SEC	1000000
#endif /* !QVISOR_TC_CROSSCHECK */

/* Walking argv: step to the option's value; running out is fatal. */
void incomplete_command(void) __attribute__((noreturn));
#ifndef QVISOR_TC_CROSSCHECK
#define NEXT_ARG()					\
	do {						\
		if (--argc <= 0)			\
			incomplete_command();		\
		argv++;					\
	} while (0)
#define NEXT_ARG_OK()	(argc > 1)
#define PREV_ARG()					\
	do {						\
		argc++;					\
		argv--;					\
	} while (0)
#endif

/* Numbers from the command line; 0 on success. */
int get_u32(__u32 *val, const char *arg, int base);
int get_rate64(__u64 *rate, const char *str);
int get_size(unsigned int *size, const char *str);
int get_time(unsigned int *time, const char *str);	/* microseconds */
int get_time64(__s64 *time, const char *str);		/* nanoseconds */
char *sprint_time(__u32 time, char *buf);
char *sprint_time64(__s64 time, char *buf);

/* Appending attributes to a request; 0 on success. */
int addattr8(struct nlmsghdr *n, int maxlen, int type, __u8 data);
int addattr32(struct nlmsghdr *n, int maxlen, int type, __u32 data);
int addattr64(struct nlmsghdr *n, int maxlen, int type, __u64 data);
int addattrstrz(struct nlmsghdr *n, int maxlen, int type, const char *str);
int addattr_l(struct nlmsghdr *n, int maxlen, int type, const void *data,
	      int alen);
struct rtattr *addattr_nest(struct nlmsghdr *n, int maxlen, int type);
int addattr_nest_end(struct nlmsghdr *n, struct rtattr *nest);

/* Reading attributes: tb[type] for each type up to max, NULL if absent. */
int parse_rtattr_flags(struct rtattr *tb[], int max, struct rtattr *rta,
		       int len, unsigned short flags);
#ifndef QVISOR_TC_CROSSCHECK
#define parse_rtattr_nested(tb, max, rta) \
	parse_rtattr_flags((tb), (max), RTA_DATA(rta), RTA_PAYLOAD(rta), \
			   NLA_F_NESTED)

static inline __u8 rta_getattr_u8(const struct rtattr *rta)
{
	return *(const __u8 *)RTA_DATA(rta);
}

static inline __u32 rta_getattr_u32(const struct rtattr *rta)
{
	return *(const __u32 *)RTA_DATA(rta);
}

static inline __u64 rta_getattr_u64(const struct rtattr *rta)
{
	__u64 v;

	__builtin_memcpy(&v, RTA_DATA(rta), sizeof(v));
	return v;
}
#endif

/*
 * Output that is text, JSON (tc -j) or both: a value printed with
 * PRINT_ANY goes to whichever is active, PRINT_FP only to text,
 * PRINT_JSON only to JSON.
 */
#ifndef QVISOR_TC_CROSSCHECK
enum output_type {
	PRINT_FP = 1,
	PRINT_JSON = 2,
	PRINT_ANY = 4,
};
#endif

/* tc's color classes (an enum: unsigned int to gcc); the plugin prints
 * everything uncolored.
 */
#define QVISOR_TC_COLOR_NONE	6
typedef unsigned int qvisor_tc_color_t;

void open_json_object(const char *name);
void close_json_object(void);
void open_json_array(enum output_type t, const char *name);
void close_json_array(enum output_type t, const char *delim);
void print_nl(void);
void tc_print_rate(enum output_type t, const char *key, const char *fmt,
		   unsigned long long rate);

/* print_NAME(t, key, fmt, value) calls tc's print_color_NAME uncolored. */
#ifdef QVISOR_TC_CROSSCHECK
#define QVISOR_TC_PRINTER(name, type)					\
	int print_color_##name(enum output_type t, qvisor_tc_color_t color, \
			       const char *key, const char *fmt,	\
			       type value);
#else
#define QVISOR_TC_PRINTER(name, type)					\
	int print_color_##name(enum output_type t, qvisor_tc_color_t color, \
			       const char *key, const char *fmt,	\
			       type value);				\
	static inline int print_##name(enum output_type t,		\
				       const char *key,			\
				       const char *fmt, type value)	\
	{								\
		return print_color_##name(t, QVISOR_TC_COLOR_NONE,	\
					  key, fmt, value);		\
	}
#endif

QVISOR_TC_PRINTER(bool, bool)
QVISOR_TC_PRINTER(string, const char *)
QVISOR_TC_PRINTER(uint, unsigned int)
QVISOR_TC_PRINTER(size, __u32)
QVISOR_TC_PRINTER(u64, uint64_t)
QVISOR_TC_PRINTER(s64, int64_t)
QVISOR_TC_PRINTER(0xhex, unsigned long long)
QVISOR_TC_PRINTER(lluint, unsigned long long)
QVISOR_TC_PRINTER(float, double)
#undef QVISOR_TC_PRINTER

#endif /* !QVISOR_IPROUTE2_HEADERS || QVISOR_TC_CROSSCHECK */
#endif

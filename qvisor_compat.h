/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few differences between Linux 6.1, 6.12 and 7.2 that
 * sch_qvisor_main.c meets, as feature tests on macros so the qdisc itself has
 * no version checks.  7.2 (Debian unstable's 7.2.13) needs nothing beyond
 * what 6.12 needs: every interface the qdisc uses kept its 6.12 form.
 */
#ifndef _QVISOR_COMPAT_H
#define _QVISOR_COMPAT_H

#include <linux/netlink.h>
#include <net/pkt_sched.h>

/* skb_gso_segment() moved from linux/netdevice.h (6.1) to net/gso.h (6.12) */
#if __has_include("net/gso.h")
#include <net/gso.h>
#endif

/* 6.12 names modules "net-sch-<kind>" for autoloading; 6.1 "sch_<kind>",
 * which the file name already matches.
 */
#ifndef MODULE_ALIAS_NET_SCH
#define MODULE_ALIAS_NET_SCH(id) MODULE_ALIAS("net-sch-" id)
#endif

/* An extack message chosen at run time (the core's messages are static
 * strings); 6.1 has no formatted extack messages, so it points at the
 * string itself.
 */
#ifdef NL_SET_ERR_MSG_FMT_MOD
#define qvisor_ext_msg(extack, msg) NL_SET_ERR_MSG_FMT_MOD(extack, "%s", msg)
#else
static inline void qvisor_ext_msg(struct netlink_ext_ack *extack,
				  const char *msg)
{
	if (extack)
		extack->_msg = msg;
}
#endif

/* A netlink range validation for NLA_POLICY_FULL_RANGE(): 6.1's
 * nla_policy points to it without const, 6.12's with; the netlink core
 * only reads it, so ours are const and the pointer loses that for 6.1.
 */
#define QVISOR_RANGE(r)	((struct netlink_range_validation *)&(r))

/* Kbuild passes the version from the VERSION file written beside the
 * sources (make, make dkms-src); a bare kbuild run has none.
 */
#ifndef QVISOR_VERSION
#define QVISOR_VERSION "unknown"
#endif

#endif

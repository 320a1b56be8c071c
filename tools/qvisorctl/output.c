// SPDX-License-Identifier: GPL-2.0-only
/*
 * qvisorctl: show's output (state.h).  JSON is built with json-c, which
 * escapes every string; one unit per kind: rates in bits per second,
 * times in nanoseconds, shares and targets in percent (as tc -j prints
 * share), sizes in bytes, queue lengths in packets.  Prometheus text
 * exposition format for the node exporter's textfile collector.  See
 * qvisorctl(8), OUTPUT.
 */
#include <math.h>
#include <string.h>
#include <linux/pkt_sched.h>
#include <json-c/json.h>

#include "spec.h"
#include "state.h"

/* weight share target of class k in its group (same tier, level, offset) */
static double qc_target(const struct qc_state *st, int k)
{
	const struct qc_class *c = &st->cl[k];
	uint32_t sum = 0;
	int m;

	if (!c->has_xs)
		return 0;
	for (m = 0; m < st->ncl; m++) {
		const struct qc_class *o = &st->cl[m];

		if (o->has_xs && o->xs.tier == c->xs.tier &&
		    o->xs.level == c->xs.level && o->xs.offset == c->xs.offset)
			sum += o->weight;
	}
	return sum ? (double)c->weight / sum : 0;
}

static const struct qc_class *qc_prev_class(const struct qc_state *prev,
					    uint32_t classid)
{
	int m;

	for (m = 0; prev && m < prev->ncl; m++)
		if (prev->cl[m].classid == classid)
			return &prev->cl[m];
	return NULL;
}

static uint64_t qc_clamped(const struct qc_class *c)
{
	return c->xs.clamped_pkts ? c->xs.clamped_pkts : c->xs.clamped;
}

/* The best and clamped column of show's table: over an interval (@p, the
 * previous read) the percentage of the packets that arrived in it (sent,
 * dropped, or still queued: the counters count arrivals), else the
 * count; "-" when the module does not count it or nothing arrived
 */
static void qc_fmt_part(char *buf, size_t len, const struct qc_class *c,
			const struct qc_class *p, bool best)
{
	int64_t arrived;
	uint64_t now;

	if (best && !c->has_best) {
		snprintf(buf, len, "-");
		return;
	}
	now = best ? c->xs.best_pkts : qc_clamped(c);
	if (!p) {
		snprintf(buf, len, "%llu", (unsigned long long)now);
		return;
	}
	arrived = (int64_t)c->bs.packets - p->bs.packets +
		  (int64_t)c->qs.drops - p->qs.drops +
		  (int64_t)c->qs.qlen - p->qs.qlen;
	if (arrived <= 0 || (best && !p->has_best)) {
		snprintf(buf, len, "-");
		return;
	}
	now -= best ? p->xs.best_pkts : qc_clamped(p);
	snprintf(buf, len, "%.1f%%", (double)now * 100 / (double)arrived);
}

static uint64_t qc_prev_bytes(const struct qc_state *prev, uint32_t classid,
			      bool *found)
{
	int m;

	for (m = 0; prev && m < prev->ncl; m++)
		if (prev->cl[m].classid == classid) {
			*found = true;
			return prev->cl[m].bs.bytes;
		}
	*found = false;
	return 0;
}

/* An attribute's u32 payload, 0 if it is shorter */
static uint32_t qc_attr_u32(const struct nlattr *a)
{
	uint32_t v = 0;

	if (a->nla_len >= NLA_HDRLEN + sizeof(v))
		memcpy(&v, (const char *)a + NLA_HDRLEN, sizeof(v));
	return v;
}

/* Walk the attributes of @len bytes at @data; fn(a, arg) for each whole one */
static void qc_attr_walk(const void *data, size_t len,
			 void (*fn)(const struct nlattr *a, void *arg),
			 void *arg)
{
	const char *p = data;

	while (len >= NLA_HDRLEN) {
		const struct nlattr *a = (const struct nlattr *)p;
		size_t step = NLA_ALIGN(a->nla_len);

		if (a->nla_len < NLA_HDRLEN || a->nla_len > len)
			return;
		fn(a, arg);
		if (step >= len)
			return;
		p += step;
		len -= step;
	}
}

static void qc_queue_attr(const struct nlattr *a, void *arg)
{
	struct qc_queue *qu = arg;

	switch (a->nla_type & NLA_TYPE_MASK) {
	case TCA_QVISOR_QUEUE_LEN:
		qu->len = qc_attr_u32(a);
		break;
	case TCA_QVISOR_QUEUE_BOUND:
		qu->bound = qc_attr_u32(a);
		qu->has_bound = true;
		break;
	case TCA_QVISOR_QUEUE_TIER:
		qu->tier = qc_attr_u32(a);
		break;
	}
}

static void qc_qstats_attr(const struct nlattr *a, void *arg)
{
	struct qc_qdisc *q = arg;
	struct qc_queue *qu;

	if ((a->nla_type & NLA_TYPE_MASK) != TCA_QVISOR_QSTATS_QUEUE ||
	    q->nqueue >= QC_MAX_QUEUES)
		return;
	qu = &q->queue[q->nqueue++];
	memset(qu, 0, sizeof(*qu));
	qc_attr_walk((const char *)a + NLA_HDRLEN, a->nla_len - NLA_HDRLEN,
		     qc_queue_attr, qu);
}

/* TCA_QVISOR_QSTATS: one TCA_QVISOR_QSTATS_QUEUE nest per queue, in order */
void qc_queues_read(struct qc_qdisc *q, const void *data, size_t len)
{
	q->has_qstats = true;
	q->nqueue = 0;
	qc_attr_walk(data, len, qc_qstats_attr, q);
}

/* A module from before TCA_QVISOR_QSTATS: the xstats arrays */
void qc_queues_fallback(struct qc_qdisc *q)
{
	uint32_t i;

	if (q->has_qstats || !q->has_xs)
		return;
	q->nqueue = q->xs.nqueues < 32 ? q->xs.nqueues : 32;
	for (i = 0; i < q->nqueue; i++) {
		q->queue[i].len = q->xs.queue_len[i];
		q->queue[i].tier = q->xs.queue_tier[i];
		q->queue[i].bound = q->xs.queue_bound[i];
		q->queue[i].has_bound = q->xs.backend == QVISOR_BACKEND_SPPIFO;
	}
}

static void qc_jadd_u64(struct json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_uint64(v));
}

static void qc_jadd_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

/* percent with up to 4 decimals (ppm resolution), written as such: not
 * json-c's 17 significant digits of the nearest double
 */
static void qc_jadd_pct(struct json_object *o, const char *k, double v)
{
	char buf[32];
	size_t n;

	snprintf(buf, sizeof(buf), "%.4f", v);
	n = strlen(buf);
	while (n > 1 && buf[n - 1] == '0')
		buf[--n] = '\0';
	if (n > 1 && buf[n - 1] == '.')
		buf[--n] = '\0';
	json_object_object_add(o, k, json_object_new_double_s(v, buf));
}

static const char *qc_backend_name(unsigned int b)
{
	static const char *const n[] = { "pifo", "sppifo", "aifo", "fifo" };

	return b < 4 ? n[b] : "?";
}

static struct json_object *qc_json_props(uint32_t props)
{
	struct json_object *g = json_object_new_object();
	char key[4];
	int n;

	for (n = 1; n <= QV_PROP_LAST; n++) {
		if (!qv_prop_known(props, (u32)n))
			continue;
		snprintf(key, sizeof(key), "P%d", n);
		qc_jadd_str(g, key, qs_prop_state(props, n));
	}
	return g;
}

/* [{"queue": 0, "tier": 0, "bound": 12, "len": 4}, ...], bound for sppifo */
static struct json_object *qc_json_queues(const struct qc_qdisc *q)
{
	struct json_object *arr = json_object_new_array();
	uint32_t i;

	for (i = 0; i < q->nqueue; i++) {
		struct json_object *o = json_object_new_object();

		qc_jadd_u64(o, "queue", i);
		qc_jadd_u64(o, "tier", q->queue[i].tier);
		if (q->queue[i].has_bound)
			qc_jadd_u64(o, "bound", q->queue[i].bound);
		qc_jadd_u64(o, "len", q->queue[i].len);
		json_object_array_add(arr, o);
	}
	return arr;
}

static void qc_json_stats(struct json_object *o,
			  const struct gnet_stats_basic *bs,
			  const struct gnet_stats_queue *qs)
{
	qc_jadd_u64(o, "bytes", bs->bytes);
	qc_jadd_u64(o, "packets", bs->packets);
	qc_jadd_u64(o, "drops", qs->drops);
	qc_jadd_u64(o, "overlimits", qs->overlimits);
	qc_jadd_u64(o, "requeues", qs->requeues);
	qc_jadd_u64(o, "backlog", qs->backlog);
	qc_jadd_u64(o, "qlen", qs->qlen);
}

void qc_print_json(FILE *f, const char *dev, const struct qc_state *st,
		   const struct qc_state *prev, double dt)
{
	const struct qc_qdisc *q = &st->q;
	struct json_object *root = json_object_new_object();
	struct json_object *jq = json_object_new_object();
	struct json_object *arr = json_object_new_array();
	char h[16];
	int k;

	qc_jadd_str(root, "dev", dev);
	qc_jadd_str(jq, "kind", "qvisor");
	snprintf(h, sizeof(h), "%x:", TC_H_MAJ(q->handle) >> 16);
	qc_jadd_str(jq, "handle", h);
	qc_jadd_u64(jq, "rate", q->rate * 8);
	qc_jadd_u64(jq, "limit", q->limit);
	qc_jadd_u64(jq, "buckets", q->buckets);
	qc_jadd_u64(jq, "slot", (uint64_t)q->slot * 1000);
	qc_jadd_u64(jq, "default", q->defcls);
	qc_jadd_str(jq, "backend", qc_backend_name(q->backend));
	if (q->backend == QVISOR_BACKEND_SPPIFO)
		qc_jadd_u64(jq, "queues", q->queues);
	json_object_object_add(jq, "partial",
			       json_object_new_boolean(q->partial));
	qc_jadd_u64(jq, "overlap", q->overlap);
	qc_jadd_u64(jq, "flows", q->flows);
	qc_jadd_u64(jq, "flow_idle", (uint64_t)q->flow_idle * 1000);
	qc_jadd_str(jq, "policy", q->policy);
	json_object_object_add(jq, "guarantees", qc_json_props(q->props));
	if (q->ngroups) {
		struct json_object *ga = json_object_new_array();
		const char *g = q->groups;

		for (k = 0; k < (int)q->ngroups; k++, g += strlen(g) + 1) {
			struct json_object *o = json_object_new_object();

			qc_jadd_str(o, "group", g);
			json_object_object_add(o, "guarantees",
					       qc_json_props(q->gprops[k]));
			json_object_array_add(ga, o);
		}
		json_object_object_add(jq, "groups", ga);
	}
	qc_json_stats(jq, &q->bs, &q->qs);
	if (q->has_xs) {
		qc_jadd_u64(jq, "tenants", q->xs.tenants);
		qc_jadd_u64(jq, "joint_width", q->xs.joint_width);
		qc_jadd_u64(jq, "tiers", q->xs.tiers);
		qc_jadd_u64(jq, "drop_pushout", q->xs.drop_pushout);
		qc_jadd_u64(jq, "drop_limit", q->xs.drop_limit);
		qc_jadd_u64(jq, "drop_tenant_limit", q->xs.drop_tenant_limit);
		qc_jadd_u64(jq, "drop_admission", q->xs.drop_admission);
		qc_jadd_u64(jq, "implicit_pkts", q->xs.implicit_pkts);
		qc_jadd_u64(jq, "aqm_drops", q->xs.aqm_drops);
		qc_jadd_u64(jq, "ecn_marks", q->xs.ecn_marks);
	}
	json_object_object_add(jq, "queue_stats", qc_json_queues(q));
	json_object_object_add(root, "qdisc", jq);
	for (k = 0; k < st->ncl; k++) {
		const struct qc_class *c = &st->cl[k];
		struct json_object *t = json_object_new_object();
		struct json_object *r = json_object_new_object();
		char cls[16];
		uint64_t pb;
		bool found;

		snprintf(cls, sizeof(cls), "%x:%x", TC_H_MAJ(c->classid) >> 16,
			 TC_H_MIN(c->classid));
		qc_jadd_str(t, "class", cls);
		qc_jadd_str(t, "rank", qs_rank_name(c->rank));
		if (c->rank == QVISOR_RANK_MARK)
			qc_jadd_u64(t, "mask", c->mask);
		if (c->rank == QVISOR_RANK_EDF)
			qc_jadd_u64(t, "budget", c->budget);
		qc_jadd_u64(r, "lo", c->lo);
		qc_jadd_u64(r, "hi", c->hi);
		if (c->rauto)
			qc_jadd_u64(r, "auto_window", c->rauto);
		json_object_object_add(t, "range", r);
		qc_jadd_u64(t, "levels", c->levels);
		qc_jadd_u64(t, "weight", c->weight);
		qc_jadd_u64(t, "ceil", c->ceil * 8);
		qc_jadd_u64(t, "burst", c->burst);
		qc_jadd_u64(t, "limit", c->limit);
		qc_json_stats(t, &c->bs, &c->qs);
		/* measured over the interval, bits per second (0 first) */
		pb = qc_prev_bytes(prev, c->classid, &found);
		qc_jadd_u64(t, "rate", found && dt > 0 && c->bs.bytes >= pb ?
			    (uint64_t)llround((double)(c->bs.bytes - pb) * 8 / dt) :
			    0);
		qc_jadd_pct(t, "target", qc_target(st, k) * 100);
		if (c->has_xs) {
			qc_jadd_pct(t, "share", c->xs.share_ppm / 1e4);
			qc_jadd_u64(t, "tier", c->xs.tier);
			qc_jadd_u64(t, "level", c->xs.level);
			qc_jadd_u64(t, "offset", c->xs.offset);
			qc_jadd_u64(t, "width", c->xs.width);
			qc_jadd_u64(t, "rank_min", c->xs.rank_min);
			qc_jadd_u64(t, "rank_max", c->xs.rank_max);
			qc_jadd_u64(t, "joint_min", c->xs.joint_min);
			qc_jadd_u64(t, "joint_max", c->xs.joint_max);
			qc_jadd_u64(t, "clamped", qc_clamped(c));
			if (c->has_best)
				qc_jadd_u64(t, "best_pkts", c->xs.best_pkts);
			if (c->has_best && c->rauto)
				qc_jadd_u64(t, "shift_ppm", c->xs.shift_ppm);
			qc_jadd_u64(t, "group_members", c->xs.group_members);
			qc_jadd_u64(t, "drop_pushout", c->xs.drop_pushout);
			qc_jadd_u64(t, "drop_limit", c->xs.drop_limit);
			qc_jadd_u64(t, "drop_tenant_limit", c->xs.drop_tenant_limit);
			qc_jadd_u64(t, "drop_admission", c->xs.drop_admission);
			qc_jadd_u64(t, "inversions", c->xs.inversions);
			json_object_object_add(t, "aqm",
					       json_object_new_boolean(c->xs.aqm));
			qc_jadd_u64(t, "aqm_drops", c->xs.aqm_drops);
			qc_jadd_u64(t, "ecn_marks", c->xs.ecn_marks);
			qc_jadd_u64(t, "max_sojourn_us", c->xs.max_sojourn);
			qc_jadd_u64(t, "memory", c->xs.memory);
			qc_jadd_u64(t, "mem_part", c->xs.mem_part);
		}
		json_object_array_add(arr, t);
	}
	json_object_object_add(root, "tenants", arr);
	fprintf(f, "%s\n", json_object_to_json_string_ext(root,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
}

/* --- Prometheus text exposition format ---------------------------------- */

/* a label value: backslash, double quote and newline escaped */
static void qc_prom_label(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void qc_prom_head(FILE *f, const char *name, const char *type,
			 const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* a sample with dev and then @n label pairs (name, value) from @kv */
static void qc_prom_sample_kv(FILE *f, const char *name, const char *dev,
			      const char *const *kv, int n, double v)
{
	int i;

	fprintf(f, "%s{dev=\"", name);
	qc_prom_label(f, dev);
	fputc('"', f);
	for (i = 0; i < n; i++) {
		fprintf(f, ",%s=\"", kv[2 * i]);
		qc_prom_label(f, kv[2 * i + 1]);
		fputc('"', f);
	}
	if (v == floor(v) && fabs(v) < 1e15)
		fprintf(f, "} %.0f\n", v);
	else
		fprintf(f, "} %.6g\n", v);
}

static void qc_prom_sample(FILE *f, const char *name, const char *dev,
			   const char *cls, const char *reason, double v)
{
	const char *kv[4] = { "class", cls, "reason", reason };

	qc_prom_sample_kv(f, name, dev, kv, cls ? (reason ? 2 : 1) : 0, v);
}

enum { QP_BYTES, QP_PACKETS, QP_DROPS, QP_BACKLOG_B, QP_BACKLOG_P,
       QP_SHARE, QP_TARGET, QP_ECN, QP_SOJOURN, QP_MEMORY, QP_CLAMPED,
       QP_BEST, QP_SHIFT, QP_N };
#define QP_DROP_REASONS	5

static double qc_prom_val(const struct qc_state *st, int k, int m,
			  const char **reason, int r)
{
	const struct qc_class *c = &st->cl[k];

	*reason = NULL;
	switch (m) {
	case QP_BYTES: return (double)c->bs.bytes;
	case QP_PACKETS: return c->bs.packets;
	case QP_DROPS: {
		static const char *const rs[QP_DROP_REASONS] = { "pushout",
			"limit", "tenant_limit", "admission", "aqm" };
		const uint64_t v[QP_DROP_REASONS] = { c->xs.drop_pushout,
			c->xs.drop_limit, c->xs.drop_tenant_limit,
			c->xs.drop_admission, c->xs.aqm_drops };

		*reason = rs[r];
		return (double)v[r];
	}
	case QP_BACKLOG_B: return c->qs.backlog;
	case QP_BACKLOG_P: return c->qs.qlen;
	case QP_SHARE: return c->xs.share_ppm / 1e6;
	case QP_ECN: return (double)c->xs.ecn_marks;
	case QP_SOJOURN: return c->xs.max_sojourn / 1e6;
	case QP_MEMORY: return c->xs.memory;
	case QP_CLAMPED: return (double)qc_clamped(c);
	case QP_BEST: return (double)c->xs.best_pkts;
	case QP_SHIFT: return c->xs.shift_ppm / 1e6;
	default: return qc_target(st, k);
	}
}

/* Whether class @c has a sample of family @m: best and shift only from a
 * module that counts them, shift only with range auto
 */
static bool qc_prom_has(const struct qc_class *c, int m)
{
	if (m == QP_BEST)
		return c->has_best;
	if (m == QP_SHIFT)
		return c->has_best && c->rauto;
	return true;
}

/* one family of per-queue gauges: each queue's length, or its bound */
static void qc_prom_queue_family(FILE *f, const char *dev,
				 const struct qc_qdisc *q, const char *name,
				 const char *help, bool bound)
{
	char qn[12], tn[12];
	const char *kv[4] = { "queue", qn, "tier", tn };
	uint32_t i;

	qc_prom_head(f, name, "gauge", help);
	for (i = 0; i < q->nqueue; i++) {
		snprintf(qn, sizeof(qn), "%u", i);
		snprintf(tn, sizeof(tn), "%u", q->queue[i].tier);
		qc_prom_sample_kv(f, name, dev, kv, 2, bound ?
				  q->queue[i].bound : q->queue[i].len);
	}
}

/* qvisor_queue_packets (and _bound for sppifo) per FIFO queue */
static void qc_prom_queues(FILE *f, const char *dev, const struct qc_qdisc *q)
{
	if (!q->nqueue)
		return;
	qc_prom_queue_family(f, dev, q, "qvisor_queue_packets",
			     "Packets in one FIFO queue of the backend (sppifo, aifo, fifo).",
			     false);
	if (q->queue[0].has_bound)
		qc_prom_queue_family(f, dev, q, "qvisor_queue_bound",
				     "The SP-PIFO rank bound of one queue (sppifo).",
				     true);
}

/* qvisor_property_info{group, property, state} 1: for the whole policy
 * (group "") and for each nested group, whether P1..P6 hold, and P7 when
 * the module states it
 */
static void qc_prom_props_one(FILE *f, const char *dev, const char *group,
			      uint32_t props)
{
	char pn[4];
	const char *kv[6] = { "group", group, "property", pn, "state", NULL };
	int n;

	for (n = 1; n <= QV_PROP_LAST; n++) {
		if (!qv_prop_known(props, (u32)n))
			continue;
		snprintf(pn, sizeof(pn), "P%d", n);
		kv[5] = qs_prop_state(props, n);
		qc_prom_sample_kv(f, "qvisor_property_info", dev, kv, 3, 1);
	}
}

static void qc_prom_props(FILE *f, const char *dev, const struct qc_qdisc *q)
{
	const char *g = q->groups;
	uint32_t k;

	qc_prom_head(f, "qvisor_property_info", "gauge",
		     "Whether a property P1-P7 of the policy holds (state yes, approx or no), for the whole policy (group \"\") and inside each nested group.");
	qc_prom_props_one(f, dev, "", q->props);
	for (k = 0; k < q->ngroups && k < QC_MAX_GROUPS; k++, g += strlen(g) + 1)
		qc_prom_props_one(f, dev, g, q->gprops[k]);
}

void qc_print_prom(FILE *f, const char *dev, const struct qc_state *st)
{
	static const struct { const char *name, *type, *help; } m[QP_N] = {
		{ "qvisor_tenant_bytes_total", "counter", "Bytes the tenant sent." },
		{ "qvisor_tenant_packets_total", "counter", "Packets the tenant sent." },
		{ "qvisor_tenant_drops_total", "counter", "Packets of the tenant dropped, by reason." },
		{ "qvisor_tenant_backlog_bytes", "gauge", "Bytes of the tenant queued." },
		{ "qvisor_tenant_backlog_packets", "gauge", "Packets of the tenant queued." },
		{ "qvisor_tenant_share_ratio", "gauge", "The tenant's part of its group's bytes since the last configuration change (0..1)." },
		{ "qvisor_tenant_target_ratio", "gauge", "The tenant's weight over its group's weights (0..1)." },
		{ "qvisor_tenant_ecn_marks_total", "counter", "Packets of the tenant its AQM marked CE." },
		{ "qvisor_tenant_max_sojourn_seconds", "gauge", "The longest a packet of the tenant waited before it left." },
		{ "qvisor_tenant_memory_bytes", "gauge", "Bytes of packet memory (truesize) the tenant holds." },
		{ "qvisor_tenant_clamped_packets_total", "counter", "Packets of the tenant whose rank was outside its declared range (clamped into it)." },
		{ "qvisor_tenant_best_packets_total", "counter", "Packets of the tenant that arrived at the best rank it can express (the low end of its range, clamped ones included)." },
		{ "qvisor_tenant_rank_shift_ratio", "gauge", "range auto: total variation distance between the tenant's last two windows of ranks (0 = same distribution, 1 = disjoint)." },
	};
	const struct qc_qdisc *q = &st->q;
	const char *reason;
	char cls[16];
	int k, i, r;

	qc_prom_head(f, "qvisor_qdisc_bytes_total", "counter", "Bytes the qvisor qdisc sent.");
	qc_prom_sample(f, "qvisor_qdisc_bytes_total", dev, NULL, NULL, (double)q->bs.bytes);
	qc_prom_head(f, "qvisor_qdisc_packets_total", "counter", "Packets the qvisor qdisc sent.");
	qc_prom_sample(f, "qvisor_qdisc_packets_total", dev, NULL, NULL, q->bs.packets);
	qc_prom_head(f, "qvisor_qdisc_drops_total", "counter", "Packets the qvisor qdisc dropped.");
	qc_prom_sample(f, "qvisor_qdisc_drops_total", dev, NULL, NULL, q->qs.drops);
	qc_prom_head(f, "qvisor_qdisc_backlog_packets", "gauge", "Packets queued in the qvisor qdisc.");
	qc_prom_sample(f, "qvisor_qdisc_backlog_packets", dev, NULL, NULL, q->qs.qlen);
	qc_prom_props(f, dev, q);
	qc_prom_queues(f, dev, q);
	for (i = 0; i < QP_N; i++) {
		if (!st->ncl)
			break;
		qc_prom_head(f, m[i].name, m[i].type, m[i].help);
		for (k = 0; k < st->ncl; k++) {
			if (!qc_prom_has(&st->cl[k], i))
				continue;
			snprintf(cls, sizeof(cls), "%x:%x",
				 TC_H_MAJ(st->cl[k].classid) >> 16,
				 TC_H_MIN(st->cl[k].classid));
			for (r = 0; r < (i == QP_DROPS ? QP_DROP_REASONS : 1); r++) {
				double v = qc_prom_val(st, k, i, &reason, r);

				qc_prom_sample(f, m[i].name, dev, cls, reason, v);
			}
		}
	}
}

void qc_print_table(FILE *f, const char *dev, const struct qc_state *st,
		    const struct qc_state *prev, double dt)
{
	const struct qc_qdisc *q = &st->q;
	char r[32], range[32], joint[32], seen[32], best[24], clamped[24];
	const char *g;
	int k;

	fprintf(f, "qvisor %x: on %s", TC_H_MAJ(q->handle) >> 16, dev);
	if (q->rate) {
		qs_fmt_rate(r, sizeof(r), q->rate);
		fprintf(f, " rate %s", r);
	}
	fprintf(f, " policy \"%s\": sent %llu bytes %u pkts, backlog %ub %up, dropped %u\n",
	       q->policy, (unsigned long long)q->bs.bytes, q->bs.packets,
	       q->qs.backlog, q->qs.qlen, q->qs.drops);
	g = q->groups;
	for (k = 0; k < (int)q->ngroups; k++, g += strlen(g) + 1) {
		char props[QS_PROPS_LEN];

		qs_fmt_props(props, sizeof(props), q->gprops[k]);
		fprintf(f, "  group %s: %s\n", g, props);
	}
	fprintf(f, "%-8s %-4s %-5s %-5s %-12s %-10s %-11s %-8s %-8s %-7s %-7s %-11s %-10s %-8s %-12s %-9s %-9s %s\n",
	       "class", "tier", "level", "rank", "range", "joint",
	       "seen ranks", "best", "clamped", "target", "share", "rate",
	       "backlog", "drops", "sent", "aqm_drops", "ecn_marks",
	       "max_sojourn");
	for (k = 0; k < st->ncl; k++) {
		const struct qc_class *c = &st->cl[k];
		char cls[16], bl[24], tgt[16], shr[16], soj[24];
		const struct qc_class *pc;
		uint64_t pb;
		bool found;

		pb = qc_prev_bytes(prev, c->classid, &found);
		if (found && dt > 0 && c->bs.bytes >= pb)
			qs_fmt_rate(r, sizeof(r),
				    (uint64_t)((c->bs.bytes - pb) / dt));
		else
			snprintf(r, sizeof(r), "-");
		snprintf(cls, sizeof(cls), "%x:%x", TC_H_MAJ(c->classid) >> 16,
			 TC_H_MIN(c->classid));
		snprintf(range, sizeof(range), "%s%u..%u",
			 c->rauto ? "auto " : "", c->lo, c->hi);
		snprintf(joint, sizeof(joint), "%u..%u", c->xs.offset,
			 c->xs.offset + (c->xs.width ? c->xs.width - 1 : 0));
		if (c->xs.rank_min || c->xs.rank_max || c->bs.packets)
			snprintf(seen, sizeof(seen), "%u..%u", c->xs.rank_min,
				 c->xs.rank_max);
		else
			snprintf(seen, sizeof(seen), "-");
		pc = qc_prev_class(prev, c->classid);
		qc_fmt_part(best, sizeof(best), c, pc, true);
		qc_fmt_part(clamped, sizeof(clamped), c, pc, false);
		snprintf(bl, sizeof(bl), "%ub/%up", c->qs.backlog, c->qs.qlen);
		snprintf(tgt, sizeof(tgt), "%.1f%%", qc_target(st, k) * 100);
		snprintf(shr, sizeof(shr), "%.1f%%", c->xs.share_ppm / 1e4);
		snprintf(soj, sizeof(soj), "%.1fms", c->xs.max_sojourn / 1e3);
		fprintf(f, "%-8s %-4u %-5u %-5s %-12s %-10s %-11s %-8s %-8s %-7s %-7s %-11s %-10s %-8u %-12llu %-9llu %-9llu %s%s\n",
		       cls, c->xs.tier, c->xs.level, qs_rank_name(c->rank),
		       range, joint, seen, best, clamped, tgt, shr, r, bl,
		       c->qs.drops,
		       (unsigned long long)c->bs.bytes,
		       (unsigned long long)c->xs.aqm_drops,
		       (unsigned long long)c->xs.ecn_marks, soj,
		       c->xs.aqm ? "" : " (noaqm)");
	}
	/* the backend's FIFO queues, as tc -s prints them */
	for (k = 0; k < (int)q->nqueue; k++) {
		fprintf(f, "queue %d tier %u", k, q->queue[k].tier);
		if (q->queue[k].has_bound)
			fprintf(f, " bound %u", q->queue[k].bound);
		fprintf(f, " len %u\n", q->queue[k].len);
	}
}


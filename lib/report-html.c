/*
 * The HTML report: one self-contained page with its CSS and SVG charts
 * (the timeline and the RTO trend) inline, no scripts, loading nothing, so
 * it can be mailed or archived. It is written as XHTML-compatible markup
 * through the XML escaping of report-junit.c, so an XML parser reads it as
 * well as a browser does.
 */
#include "report-int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "util.h"

static const char *const tone_class[] = { "ok", "bad", "none", "pending" };

/* ---- HTML ---- */

static const char html_css[] =
	":root{--ink:#1a1d23;--muted:#667085;--line:#e4e7ec;--bg:#f5f7fa;--card:#fff;"
	"--ok:#1f7a3a;--ok-bg:#e7f6ec;--bad:#c4262e;--bad-bg:#fdecec;--none:#667085;"
	"--none-bg:#f0f2f5;--pending:#b45309;--pending-bg:#fff4e5;--machine:#4c6ef5}\n"
	"*{box-sizing:border-box}\n"
	"html{-webkit-print-color-adjust:exact;print-color-adjust:exact}\n"
	"body{margin:0;background:var(--bg);color:var(--ink);"
	"font:14px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif}\n"
	"main{max-width:1100px;margin:0 auto;padding:28px 28px 40px}\n"
	"code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,'Liberation Mono',monospace}\n"
	"code{font-size:12px;background:#e9ecf1;padding:1px 6px;border-radius:4px}\n"
	".eyebrow{font-size:12px;font-weight:700;letter-spacing:.09em;text-transform:uppercase;color:var(--muted)}\n"
	"h1{font-size:30px;line-height:1.2;margin:4px 0 8px;display:flex;align-items:center;gap:14px;flex-wrap:wrap}\n"
	"h2{font-size:17px;margin:0 0 14px}\n"
	"h3{font-size:14px;margin:0 0 6px}\n"
	".meta{color:var(--muted);margin:0}\n"
	".badge{font-size:12px;font-weight:800;letter-spacing:.08em;text-transform:uppercase;"
	"padding:4px 12px;border-radius:999px}\n"
	".ok{--tone:var(--ok);--tone-bg:var(--ok-bg)}.bad{--tone:var(--bad);--tone-bg:var(--bad-bg)}"
	".none{--tone:var(--none);--tone-bg:var(--none-bg)}.pending{--tone:var(--pending);--tone-bg:var(--pending-bg)}\n"
	".badge,.pill{color:var(--tone);background:var(--tone-bg)}\n"
	".run-error{margin:12px 0 0;padding:10px 14px;border-radius:8px;background:var(--bad-bg);color:var(--bad);font-weight:600}\n"
	".verdicts{display:grid;grid-template-columns:repeat(3,1fr);gap:16px;margin:22px 0 16px}\n"
	".card{background:var(--card);border:1px solid var(--line);border-top:6px solid var(--tone);"
	"border-radius:12px;padding:16px 20px 14px}\n"
	".card .head{display:flex;justify-content:space-between;align-items:center;gap:8px}\n"
	".card .label{font-size:12px;font-weight:700;letter-spacing:.07em;text-transform:uppercase;color:var(--muted)}\n"
	".pill{white-space:nowrap;font-size:13px;font-weight:800;letter-spacing:.08em;text-transform:uppercase;padding:3px 12px;border-radius:6px}\n"
	".card .value{font-size:40px;font-weight:750;line-height:1.1;margin:10px 0 2px;"
	"font-variant-numeric:tabular-nums;color:var(--tone)}\n"
	".card.none .value{color:var(--ink)}\n"
	".card .sub{color:var(--muted);font-size:13px}\n"
	".meter{position:relative;height:10px;margin:12px 0 8px;background:#edf0f4;border-radius:5px}\n"
	".meter .fill{position:absolute;left:0;top:0;bottom:0;border-radius:5px;background:var(--tone)}\n"
	".meter .machine{background:var(--machine)}\n"
	".meter .wait,.sw.wait{background:repeating-linear-gradient(45deg,#f08c00 0 3px,#ffe3a3 3px 6px)}\n"
	".meter .mark{position:absolute;top:-4px;bottom:-4px;width:2px;background:var(--ink)}\n"
	".card .sentence{margin:0;font-size:12px;color:var(--muted)}\n"
	".risk{margin:0 0 16px;padding:12px 16px;border-radius:10px;background:var(--pending-bg);"
	"border-left:5px solid #f08c00;color:#7a3e00}\n"
	"section.block{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:18px 22px;margin:16px 0}\n"
	"svg{display:block;width:100%;height:auto}\n"
	"svg text{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;fill:var(--ink)}\n"
	"svg .pl{font-size:13px;font-weight:650}svg .ps{font-size:11px;fill:var(--muted)}"
	"svg .over{fill:var(--bad);font-weight:700}svg .sl{font-size:12px}svg .sd{font-size:11px;fill:var(--muted)}"
	"svg .tick{font-size:11px;fill:var(--muted)}svg .mk{font-size:11px;font-weight:700}\n"
	".legend{display:flex;flex-wrap:wrap;gap:6px 18px;margin:10px 0 0;font-size:12px;color:var(--muted)}\n"
	".sw{display:inline-block;width:16px;height:10px;border-radius:2px;margin-right:6px;vertical-align:-1px}\n"
	".sw.machine{background:var(--machine)}.sw.failed{background:#e03131}"
	".sw.budget{background:#f1f3f7;border:1.5px dashed #98a2b3}\n"
	".sw.t0,.sw.t1,.sw.dl{width:3px;height:14px;vertical-align:-3px}.sw.t0{background:#e8590c}"
	".sw.t1{background:#2b8a3e}.sw.dl{background:repeating-linear-gradient(#c92a2a 0 3px,transparent 3px 5px)}"
	".sw.note{width:9px;height:9px;background:#7048e8;transform:rotate(45deg);border-radius:1px}\n"
	"table{width:100%;border-collapse:collapse;font-size:13px}\n"
	"th{text-align:left;font-size:11px;font-weight:700;letter-spacing:.05em;text-transform:uppercase;"
	"color:var(--muted);border-bottom:2px solid var(--line);padding:6px 8px}\n"
	"td{border-bottom:1px solid var(--line);padding:6px 8px;vertical-align:top}\n"
	".num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
	"tr.phase-row td{background:#f6f7fa;padding-top:9px;padding-bottom:9px}\n"
	".pname{font-weight:700}.pmeta{color:var(--muted);margin-left:8px}\n"
	".st{font-weight:650;color:var(--tone)}.phase-row .st{margin-left:10px}\n"
	".errmsg{margin:6px 0 0;color:var(--bad);font-weight:600}\n"
	".flag{margin-left:8px;font-size:11px;font-weight:800;letter-spacing:.05em;text-transform:uppercase;"
	"color:var(--bad);background:var(--bad-bg);padding:1px 8px;border-radius:4px}\n"
	".tag{margin-left:6px;font-size:11px;color:var(--muted);border:1px solid var(--line);padding:0 6px;border-radius:4px}\n"
	"tr.err td{color:var(--bad);font-size:12px;border-top:0;padding-top:0}\n"
	".fail{margin:0 0 18px}.fail:last-child{margin-bottom:0}\n"
	"pre{margin:8px 0 0;background:#101623;color:#e6edf3;padding:12px 14px;border-radius:8px;"
	"font-size:12px;line-height:1.45;white-space:pre-wrap;word-break:break-word;overflow:auto}\n"
	".small{font-size:12px;color:var(--muted)}\n"
	"ul.notes{margin:0;padding:0;list-style:none}ul.notes li{padding:6px 0;border-bottom:1px solid var(--line)}"
	"ul.notes li:last-child{border-bottom:0}ul.notes time{color:var(--muted);margin-right:10px;font-variant-numeric:tabular-nums}\n"
	"dl.details{display:grid;grid-template-columns:180px 1fr;gap:4px 16px;margin:0;font-size:13px}\n"
	"dl.details dt{color:var(--muted)}dl.details dd{margin:0;word-break:break-all}\n"
	"footer{margin-top:18px;font-size:12px;color:var(--muted);text-align:center}\n"
	"@media (max-width:800px){.verdicts{grid-template-columns:1fr}dl.details{grid-template-columns:1fr}}\n"
	"@media print{@page{margin:14mm}body{background:#fff;font-size:10.5pt}main{max-width:none;padding:0}"
	".card,section.block{break-inside:avoid;border-color:#c9ced6}section.block{padding:10px 0;border:0;"
	"border-top:1px solid #c9ced6;border-radius:0}pre{background:#f6f7f9;color:#111;border:1px solid #d0d5dd}"
	"tr{break-inside:avoid}.verdicts{grid-template-columns:repeat(3,1fr)}}\n";

static void html_card(struct strbuf *sb, const char *label, const struct verdict *v)
{
	char d[32], t[32];
	strbuf_addf(sb, "<div class=\"card %s\">\n<div class=\"head\"><span class=\"label\">%s</span>"
			"<span class=\"pill %s\">", tone_class[v->tone], label, tone_class[v->tone]);
	h_text(sb, v->word);
	strbuf_addf(sb, "</span></div>\n<div class=\"value\">%s</div>\n",
		    isnan(v->achieved) ? "\xe2\x80\x94" : dur(v->achieved, d));
	strbuf_addf(sb, "<div class=\"sub\">%s%s</div>\n", isnan(v->target) ? "no target declared" : "target ",
		    isnan(v->target) ? "" : dur(v->target, t));
	if (isfinite(v->target) && v->target > 0) {
		double scale = isfinite(v->achieved) && v->achieved > v->target ? v->achieved : v->target;
		double fill = isfinite(v->achieved) ? 100.0 * v->achieved / scale : 0;
		strbuf_addf(sb, "<div class=\"meter\"><span class=\"fill\" style=\"width:%.1f%%\"></span>"
				"<span class=\"mark\" style=\"left:calc(%.1f%% - 1px)\" title=\"target\">"
				"</span></div>\n", fill, 100.0 * v->target / scale);
	} else {
		strbuf_addstr(sb, "<div class=\"meter\"></div>\n");
	}
	strbuf_addstr(sb, "<p class=\"sentence\">");
	h_text(sb, v->sentence);
	strbuf_addstr(sb, "</p>\n</div>\n");
}

/* People vs machines: the run's wall time split into waiting for a person and the rest. */
static void html_time_card(struct strbuf *sb, const struct run_rec *r)
{
	char d[32], h[32], m[32];
	double span = run_span_s(r), wait = r->human_wait_s > 0 ? r->human_wait_s : 0;
	strbuf_addf(sb, "<div class=\"card none\">\n<div class=\"head\"><span class=\"label\">"
			"Run time</span><span class=\"pill %s\">", tone_class[status_tone(r->status)]);
	status_words(r->status, d);
	h_text(sb, d);
	strbuf_addf(sb, "</span></div>\n<div class=\"value\">%s</div>\n",
		    isnan(span) ? "\xe2\x80\x94" : dur(span, d));
	if (isfinite(span) && span > 0) {
		double machine = span - wait > 0 ? span - wait : 0;
		strbuf_addf(sb, "<div class=\"sub\">machines %s \xc2\xb7 waiting for people %s</div>\n",
			    dur(machine, m), dur(wait, h));
		double wp = 100.0 * (wait < span ? wait : span) / span;
		strbuf_addf(sb, "<div class=\"meter\"><span class=\"fill machine\" style=\"width:100%%\">"
				"</span><span class=\"fill wait\" style=\"left:auto;right:0;width:%.1f%%;"
				"border-radius:0 5px 5px 0\"></span></div>\n", wp);
		if (wait > 0)
			strbuf_addf(sb, "<p class=\"sentence\">%.0f%% of the run waited for a person "
					"(manual steps); the rest was machine time</p>\n", wp);
		else
			strbuf_addstr(sb, "<p class=\"sentence\">no step waited for a person: all "
					  "machine time</p>\n");
	} else {
		strbuf_addstr(sb, "<div class=\"sub\">still running</div>\n<div class=\"meter\"></div>\n");
	}
	strbuf_addstr(sb, "</div>\n");
}

/* SPEC 10: the probes, apart from the phases, and a probe run's RPO exposure. */
static void html_probes(struct strbuf *sb, const struct run_rec *r)
{
	char *exposure = report_exposure_sentence(r);
	int any = run_has_probes(r);
	if (!any && !exposure)
		return;
	strbuf_addstr(sb, "<section class=\"block\">\n<h2>Probes</h2>\n");
	if (exposure) {
		int bad = r->exposure == EXPOSURE_MISSED || r->exposure == EXPOSURE_UNMEASURED;
		strbuf_addf(sb, "<p class=\"%s\"><b>", bad ? "run-error" : "exposure");
		h_text(sb, exposure);
		strbuf_addstr(sb, "</b></p>\n");
		free(exposure);
	}
	if (any) {
		strbuf_addstr(sb, "<table class=\"steps\">\n<thead><tr><th>When</th><th>Probe</th>"
				  "<th>Kind</th><th>Status</th><th class=\"num\">Attempts</th>"
				  "<th class=\"num\">Duration</th><th>Error</th></tr></thead>\n<tbody>\n");
		for (size_t i = 0; i < r->nphases; i++) {
			const struct phase_rec *p = &r->phases[i];
			for (size_t j = 0; p->probe && j < p->nsteps; j++) {
				const struct step_rec *s = &p->steps[j];
				char d[32], w[32];
				strbuf_addf(sb, "<tr><td>%s</td><td>", p->probe == PROBE_BEFORE ? "before" : "after");
				h_text(sb, s->name);
				strbuf_addstr(sb, "</td><td>");
				h_text(sb, s->kind ? s->kind : "-");
				strbuf_addf(sb, "</td><td><span class=\"st %s\">%s</span></td><td class=\"num\">%d</td>"
						"<td class=\"num\">%s</td><td>", tone_class[status_tone(s->status)],
					    status_words(s->status, w), s->attempts, dur(s->duration_s, d));
				char *first = s->error && s->status != ST_SUCCEEDED ? first_line(s->error) : NULL;
				h_text(sb, first ? first : "-");
				free(first);
				strbuf_addstr(sb, "</td></tr>\n");
			}
		}
		strbuf_addstr(sb, "</tbody>\n</table>\n");
	}
	strbuf_addstr(sb, "</section>\n");
}

static void html_steps(struct strbuf *sb, const struct run_rec *r)
{
	char d[32], b[32], w[32];
	strbuf_addstr(sb, "<section class=\"block\">\n<h2>Steps</h2>\n<table class=\"steps\">\n"
			  "<thead><tr><th>Step</th><th>Kind</th><th>Role</th><th>Status</th>"
			  "<th class=\"num\">Attempts</th><th class=\"num\">Duration</th>"
			  "<th class=\"num\">Waiting</th><th class=\"num\">Exit</th>"
			  "<th>Confirmed by</th></tr></thead>\n<tbody>\n");
	for (size_t i = 0; i < r->nphases; i++) {
		const struct phase_rec *p = &r->phases[i];
		if (p->probe)
			continue;	/* under Probes */
		strbuf_addstr(sb, "<tr class=\"phase-row\"><td colspan=\"9\"><span class=\"pname\">");
		h_text(sb, p->name);
		strbuf_addstr(sb, "</span><span class=\"pmeta\">");
		if (p->role) {
			h_text(sb, p->role);
			strbuf_addstr(sb, " \xc2\xb7 ");
		}
		strbuf_addstr(sb, p->started_ms == TS_NONE ? "not run" : dur(p->duration_s, d));
		if (isfinite(p->budget_s))
			strbuf_addf(sb, " of %s budget", dur(p->budget_s, b));
		if (p->human_wait_s > 0)
			strbuf_addf(sb, " \xc2\xb7 waiting %s", dur(p->human_wait_s, w));
		strbuf_addf(sb, "</span> <span class=\"st %s\">%s</span>", tone_class[status_tone(p->status)],
			    status_words(p->status, w));
		if (p->over_budget)
			strbuf_addstr(sb, "<span class=\"flag\">over budget</span>");
		if (p->fault)
			strbuf_addstr(sb, "<span class=\"tag\">fault</span>");
		if (p->restores_service)
			strbuf_addstr(sb, "<span class=\"tag\">restores service</span>");
		if (p->cleanup)
			strbuf_addstr(sb, "<span class=\"tag\">cleanup</span>");
		strbuf_addstr(sb, "</td></tr>\n");
		for (size_t j = 0; j < p->nsteps; j++) {
			const struct step_rec *s = &p->steps[j];
			strbuf_addstr(sb, "<tr><td>");
			if (s->section == SEC_ROLLBACK)
				strbuf_addstr(sb, "<span class=\"tag\">rollback</span> ");
			h_text(sb, s->name);
			strbuf_addstr(sb, "</td><td>");
			h_text(sb, s->kind ? s->kind : "-");
			strbuf_addstr(sb, "</td><td>");
			h_text(sb, s->role ? s->role : "-");
			strbuf_addf(sb, "</td><td><span class=\"st %s\">%s</span></td><td class=\"num\">%d</td>"
					"<td class=\"num\">%s</td><td class=\"num\">%s</td><td class=\"num\">",
				    tone_class[status_tone(s->status)], status_words(s->status, w),
				    s->attempts, dur(s->duration_s, d),
				    s->human_wait_s > 0 ? dur(s->human_wait_s, b) : "-");
			if (s->exit_code >= 0)
				strbuf_addf(sb, "%d", s->exit_code);
			else
				strbuf_addch(sb, '-');
			strbuf_addstr(sb, "</td><td>");
			char *how = step_confirmed_text(s);
			h_text(sb, how ? how : "-");
			free(how);
			strbuf_addstr(sb, "</td></tr>\n");
			for (size_t k = 0; k < s->nhosts; k++) {	/* remote steps: a row per host */
				const struct host_rec *hr = &s->hosts[k];
				strbuf_addstr(sb, "<tr class=\"host\"><td></td><td>&#8627; @ ");
				h_text(sb, hr->host);
				strbuf_addstr(sb, "</td><td>host</td><td></td><td><span class=\"st ");
				strbuf_addstr(sb, host_ok(hr) ? "ok" : "bad");
				strbuf_addstr(sb, "\">");
				h_text(sb, hr->status ? hr->status : "-");
				strbuf_addf(sb, "</span></td><td class=\"num\">%d</td><td class=\"num\">%s</td>"
						"<td class=\"num\">-</td><td class=\"num\">", hr->attempts,
					    dur(hr->duration_s, d));
				if (hr->exit_code >= 0)
					strbuf_addf(sb, "%d", hr->exit_code);
				else
					strbuf_addch(sb, '-');
				strbuf_addstr(sb, "</td><td>");
				if (hr->error && !host_ok(hr))
					h_text(sb, hr->error);
				strbuf_addstr(sb, "</td></tr>\n");
			}
			if (s->error && s->status != ST_SUCCEEDED) {
				char *first = first_line(s->error);
				strbuf_addstr(sb, "<tr class=\"err\"><td colspan=\"9\">");
				h_text(sb, first);
				strbuf_addstr(sb, "</td></tr>\n");
				free(first);
			}
		}
	}
	strbuf_addstr(sb, "</tbody>\n</table>\n</section>\n");
}

static void html_failures(struct strbuf *sb, const struct run_rec *r)
{
	int any = 0;
	char w[32];
	for (size_t i = 0; i < r->nphases; i++) {
		const struct phase_rec *p = &r->phases[i];
		for (size_t j = 0; j < p->nsteps; j++) {
			const struct step_rec *s = &p->steps[j];
			if (!step_failed(s))
				continue;
			if (!any++)
				strbuf_addstr(sb, "<section class=\"block\">\n<h2>Failed steps</h2>\n");
			strbuf_addstr(sb, "<div class=\"fail\">\n<h3>");
			h_text(sb, p->name);
			strbuf_addstr(sb, " \xe2\x80\xba ");
			h_text(sb, s->name);
			strbuf_addf(sb, " <span class=\"st bad\">%s</span></h3>\n<p class=\"small\">",
				    status_words(s->status, w));
			if (s->exit_code >= 0)
				strbuf_addf(sb, "exit %d \xc2\xb7 ", s->exit_code);
			strbuf_addf(sb, "%d attempt%s", s->attempts, s->attempts == 1 ? "" : "s");
			if (s->role) {
				strbuf_addstr(sb, " \xc2\xb7 role ");
				h_text(sb, s->role);
			}
			strbuf_addstr(sb, "</p>\n");
			if (s->error) {	/* a traceback keeps its lines */
				int lines = strchr(s->error, '\n') != NULL;
				strbuf_addstr(sb, lines ? "<pre>" : "<p class=\"errmsg\">");
				h_text(sb, s->error);
				strbuf_addstr(sb, lines ? "</pre>\n" : "</p>\n");
			}
			int cut;
			char *tail = output_tail(s, &cut);
			if (tail) {
				strbuf_addf(sb, "<p class=\"small\">%s</p>\n<pre>",
					    cut ? "The last lines of its output:" : "Its output:");
				h_text(sb, tail);
				strbuf_addstr(sb, "</pre>\n");
				free(tail);
			}
			strbuf_addstr(sb, "</div>\n");
		}
	}
	if (any)
		strbuf_addstr(sb, "</section>\n");
}

static void html_detail(struct strbuf *sb, const char *label, const char *value, int code)
{
	strbuf_addf(sb, "<dt>%s</dt><dd>%s", label, code && value ? "<code>" : "");
	h_text(sb, value ? value : "-");
	strbuf_addf(sb, "%s</dd>\n", code && value ? "</code>" : "");
}

/* The document's head: title, CSS; then <body> and <main> open. */
static void html_head(struct strbuf *sb, const struct run_rec *run, const char *rb)
{
	char b1[32];
	strbuf_addstr(sb, "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n"
			   "<head>\n<meta charset=\"utf-8\"/>\n<meta name=\"viewport\" "
			   "content=\"width=device-width, initial-scale=1\"/>\n<meta name=\"generator\" "
			   "content=\"lifeboat " LIFEBOAT_VERSION "\"/>\n<title>");
	h_text(sb, rb);
	strbuf_addf(sb, " \xc2\xb7 %s ", run->mode ? run->mode : "run");
	h_text(sb, run->id);
	strbuf_addf(sb, " \xc2\xb7 %s</title>\n<style>\n%s</style>\n</head>\n<body>\n<main>\n",
		    status_words(run->status, b1), html_css);
}

/* The title with the status, the run's one-line summary and its error. */
static void html_header(struct strbuf *sb, const struct run_rec *run, const char *rb,
			const struct verdict *rto, const struct verdict *rpo)
{
	char b1[32], b2[32];
	strbuf_addstr(sb, "<header>\n<div class=\"eyebrow\">lifeboat recovery report</div>\n<h1>");
	h_text(sb, rb);
	strbuf_addf(sb, " <span class=\"badge %s\">%s</span>", tone_class[status_tone(run->status)],
		    status_words(run->status, b1));
	/* steps can all succeed while an objective is missed: say so beside the status */
	if (rto->tone == TONE_BAD)
		strbuf_addstr(sb, " <span class=\"badge bad\">RTO missed</span>");
	if (rpo->tone == TONE_BAD)
		strbuf_addstr(sb, " <span class=\"badge bad\">RPO missed</span>");
	strbuf_addf(sb, "</h1>\n<p class=\"meta\">%s \xc2\xb7 run <code>",
		    run_is_drill(run) ? "chaos drill" : "run");
	h_text(sb, run->id);
	strbuf_addstr(sb, "</code>");
	if (run->env) {
		strbuf_addstr(sb, " \xc2\xb7 env <b>");
		h_text(sb, run->env);
		strbuf_addstr(sb, "</b>");
	}
	if (run->operator) {
		strbuf_addstr(sb, " \xc2\xb7 operator <b>");
		h_text(sb, run->operator);
		strbuf_addstr(sb, "</b>");
	}
	strbuf_addf(sb, " \xc2\xb7 started %s", ts_human(run->started_ms, b1));
	if (isfinite(run_span_s(run)))
		strbuf_addf(sb, " \xc2\xb7 lasted %s", dur(run_span_s(run), b2));
	strbuf_addstr(sb, "</p>\n");
	if (run->error) {
		strbuf_addstr(sb, "<p class=\"run-error\">");
		h_text(sb, run->error);
		strbuf_addstr(sb, "</p>\n");
	}
}

static void html_timeline(struct strbuf *sb, const struct run_rec *run)
{
	strbuf_addstr(sb, "<section class=\"block\">\n<h2>Timeline</h2>\n");
	struct axis ax;
	if (run->nphases && axis_make(run, &ax)) {
		svg_timeline(sb, run, &ax);
		strbuf_addf(sb, "<div class=\"legend\"><span><i class=\"sw machine\"></i>machine time"
				   "</span><span><i class=\"sw wait\"></i>waiting for a person</span>"
				   "<span><i class=\"sw failed\"></i>failed</span><span><i class=\"sw "
				   "budget\"></i>budget</span><span><i class=\"sw t0\"></i>t0 incident"
				   "</span><span><i class=\"sw t1\"></i>t1 restored</span><span><i "
				   "class=\"sw dl\"></i>RTO deadline</span><span><i class=\"sw note\"></i>"
				   "note</span><span>times count from %s</span></div>\n",
			    ax.origin == run->incident_ms ? "t0" : "the start of the run");
	} else {
		strbuf_addstr(sb, "<p class=\"small\">No phase has run.</p>\n");
	}
	strbuf_addstr(sb, "</section>\n");
}

static void html_notes(struct strbuf *sb, const struct run_rec *run)
{
	char b1[32];
	if (run->nnotes) {
		strbuf_addstr(sb, "<section class=\"block\">\n<h2>Notes</h2>\n<ul class=\"notes\">\n");
		for (size_t i = 0; i < run->nnotes; i++) {
			const struct note_rec *n = &run->notes[i];
			strbuf_addf(sb, "<li><time>%s</time><b>", ts_human(n->at_ms, b1));
			h_text(sb, n->operator ? n->operator : "?");
			strbuf_addstr(sb, note_after_end(run, n) ? "</b> <i>(after the end)</i> " : "</b> ");
			h_text(sb, n->text);
			strbuf_addstr(sb, "</li>\n");
		}
		strbuf_addstr(sb, "</ul>\n</section>\n");
	}
}

/* The recent achieved RTOs as a chart and in words. */
static void html_trend(struct strbuf *sb, const struct run_rec *run, const struct report_trend *trend,
		       const struct trend_view *tv, const char *rb)
{
	strbuf_addstr(sb, "<section class=\"block\">\n<h2>RTO trend</h2>\n");
	if (tv->n) {
		svg_trend(sb, trend, run, tv->target);
		char p50[32], p95[32], tg[32];
		strbuf_addf(sb, "<p class=\"small\">The last %zu achieved RTO%s of ", tv->n,
			    tv->n > 1 ? "s" : "");
		h_text(sb, rb);
		strbuf_addf(sb, ", up to this run: p50 %s, p95 %s, target %s.", dur(tv->p50, p50),
			    dur(tv->p95, p95), dur(tv->target, tg));
		if (tv->describe) {
			strbuf_addstr(sb, tv->why ? " <b>At risk:</b> " : " ");
			h_text(sb, tv->describe);
			strbuf_addch(sb, '.');
		}
		strbuf_addstr(sb, "</p>\n");
	} else {
		strbuf_addstr(sb, "<p class=\"small\">No achieved RTO in the history yet.</p>\n");
	}
	strbuf_addstr(sb, "</section>\n");
}

static void html_details(struct strbuf *sb, const struct run_rec *run)
{
	char b1[32];
	strbuf_addstr(sb, "<section class=\"block\">\n<h2>Run details</h2>\n<dl class=\"details\">\n");
	html_detail(sb, "Run id", run->id, 1);
	html_detail(sb, "Runbook file", run->file, 1);
	html_detail(sb, "Runbook SHA-256", run->sha256, 1);
	html_detail(sb, "Signed by key", run->signed_by ? run->signed_by : "unsigned", 1);
	char *mode = xasprintf("%s \xc2\xb7 %s", run->mode ? run->mode : "-",
			       run->trigger ? run->trigger : "-");
	html_detail(sb, "Mode \xc2\xb7 trigger", mode, 0);
	free(mode);
	html_detail(sb, "Host", run->host, 0);
	html_detail(sb, "Params", run->params_json, 1);
	html_detail(sb, "Incident (t0)", run->incident_ms == TS_NONE ? NULL : ts_human(run->incident_ms, b1), 0);
	html_detail(sb, "Restored (t1)", run->restored_ms == TS_NONE ? NULL : ts_human(run->restored_ms, b1), 0);
	html_detail(sb, "Recovery point",
		    run->recovery_point_ms == TS_NONE ? NULL : ts_human(run->recovery_point_ms, b1), 0);
	html_detail(sb, "Ended", run->ended_ms == TS_NONE ? NULL : ts_human(run->ended_ms, b1), 0);
	if (run->exit_code >= 0) {
		snprintf(b1, sizeof(b1), "%d", run->exit_code);
		html_detail(sb, "Exit code", b1, 0);
	}
	strbuf_addstr(sb, "</dl>\n</section>\n<footer>lifeboat " LIFEBOAT_VERSION
			   " \xc2\xb7 this page is self-contained: it loads nothing</footer>\n"
			   "</main>\n</body>\n</html>\n");
}

char *report_html_string(const struct run_rec *run, const struct report_trend *trend)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_init(&sb, 32768);
	struct verdict rto, rpo;
	verdicts_make(run, &rto, &rpo);
	struct trend_view tv;
	trend_view(trend, run, &tv);
	const char *rb = run->runbook ? run->runbook : "lifeboat run";

	html_head(&sb, run, rb);
	html_header(&sb, run, rb, &rto, &rpo);
	strbuf_addstr(&sb, "</header>\n<section class=\"verdicts\" aria-label=\"Verdicts\">\n");
	html_card(&sb, "RTO \xc2\xb7 recovery time", &rto);
	html_card(&sb, "RPO \xc2\xb7 recovery point", &rpo);
	html_time_card(&sb, run);
	strbuf_addstr(&sb, "</section>\n");
	if (tv.why) {
		strbuf_addstr(&sb, "<p class=\"risk\"><b>RTO at risk:</b> ");
		h_text(&sb, tv.describe ? tv.describe : tv.why);
		strbuf_addstr(&sb, ".</p>\n");
	}
	html_probes(&sb, run);
	html_timeline(&sb, run);
	html_steps(&sb, run);
	html_failures(&sb, run);
	html_notes(&sb, run);
	html_trend(&sb, run, trend, &tv, rb);
	html_details(&sb, run);

	trend_view_release(&tv);
	free(rto.sentence);
	free(rpo.sentence);
	return strbuf_detach(&sb);
}

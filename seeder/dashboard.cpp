#include "seeder/dashboard.h"

namespace ironstone::seeder {

namespace {
constexpr std::string_view kHtml = R"HTML(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Ironstone rack</title>
<style>
  body { font: 14px system-ui, sans-serif; margin: 1.5em; color: #222; background: #fafafa; }
  h1 { font-size: 1.3em; margin: 0 0 .3em; }
  h2 { font-size: 1.05em; margin: 1.2em 0 .4em; }
  #top { display: flex; gap: 1.5em; align-items: stretch; flex-wrap: wrap; margin: .5em 0 1em; }
  .panel { background: #fff; border: 1px solid #e4e4e4; border-radius: 4px; padding: .6em .8em; }
  #counts { display: flex; gap: .5em; flex-wrap: wrap; margin-bottom: .5em; }
  .count { padding: .15em .6em; border-radius: 1em; background: #eee; font-weight: 600; }
  #summary, #eta { color: #444; margin: .25em 0; }
  #eta { font-size: 1.15em; font-weight: 600; color: #222; }
  #chart { width: 520px; }
  #chart svg { display: block; }
  .legend { font-size: 12px; color: #444; }
  .legend span { display: inline-block; width: .9em; height: .9em; vertical-align: -1px; margin: 0 .3em 0 .8em; }
  table { border-collapse: collapse; width: 100%; background: #fff; }
  th, td { text-align: left; padding: .35em .6em; border-bottom: 1px solid #e4e4e4; white-space: nowrap;
           vertical-align: top; }
  th { background: #f0f0f0; font-weight: 600; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  td.reason { white-space: normal; overflow-wrap: anywhere; min-width: 14em; max-width: 36em; color: #7f1d1d; }
  tr.node { cursor: pointer; }
  tr.node:hover { background: #f5f8ff; }
  .bar { width: 10em; height: .9em; background: #e8e8e8; border-radius: 3px; overflow: hidden; display: inline-block;
         vertical-align: middle; }
  .bar > div { height: 100%; background: #3b82f6; }
  .pct { display: inline-block; width: 3.5em; text-align: right; font-variant-numeric: tabular-nums; color: #555; }
  tr.done .bar > div, tr.booted .bar > div, tr.joined .bar > div { background: #16a34a; }
  tr.failed .bar > div { background: #dc2626; }
  tr.stale .bar > div { background: #ca8a04; }
  .state { padding: .1em .5em; border-radius: 3px; font-weight: 600; font-size: 12px; }
  .state-working { background: #dbeafe; color: #1e40af; }
  .state-done { background: #dcfce7; color: #166534; }
  .state-booted { background: #ccfbf1; color: #115e59; }
  .state-joined { background: #16a34a; color: #fff; }
  .state-failed { background: #dc2626; color: #fff; }
  .state-stale { background: #fef3c7; color: #92400e; }
  .state-reflashing { background: #ede9fe; color: #5b21b6; }
  tr.history > td { background: #f8fafc; white-space: normal; }
  tr.history table { width: auto; margin: .2em 0 .4em 1.5em; }
  tr.history th, tr.history td { font-size: 12px; padding: .2em .5em; }
  #log { font: 12px ui-monospace, monospace; background: #fff; border: 1px solid #e4e4e4; padding: .5em;
         max-height: 20em; overflow-y: auto; white-space: pre-wrap; overflow-wrap: anywhere; }
  #err { color: #dc2626; }
</style>
</head>
<body>
<h1>Ironstone rack</h1>
<div id="err"></div>
<div id="top">
  <div class="panel" style="flex: 1; min-width: 22em">
    <div id="counts"></div>
    <div id="eta">loading…</div>
    <div id="summary"></div>
  </div>
  <div class="panel" id="chart">
    <div class="legend">rack rate over time<span style="background:#2563eb"></span>from the seeder<span
      style="background:#f59e0b"></span>from peers</div>
    <svg id="rate-chart" width="500" height="150" viewBox="0 0 500 150" role="img"
         aria-label="rack download rate over time, from the seeder and from peers"></svg>
  </div>
</div>
<table>
  <thead><tr><th>node</th><th>host</th><th>board</th><th>release</th><th>state</th><th>step</th>
  <th>progress</th><th>rate</th><th>from seeder</th><th>from peers</th><th>last seen</th><th>reason</th></tr></thead>
  <tbody id="nodes"></tbody>
</table>
<h2>Events</h2>
<div id="log"></div>
<script>
"use strict";
const STATES = ["working", "done", "booted", "joined", "failed", "reflashing", "stale"];
const expanded = new Set(location.hash.startsWith("#node=") ? [decodeURIComponent(location.hash.slice(6))] : []);
const histories = new Map();
function bytes(n) {
  const u = ["B", "KiB", "MiB", "GiB", "TiB"]; let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : n) + " " + u[i];
}
function ago(t, now) { const s = Math.max(0, Math.round(now - t)); return s < 90 ? s + " s" : Math.round(s / 60) + " min"; }
function clock(t) { return new Date(t * 1000).toISOString().replace("T", " ").slice(0, 19); }
function duration(s) {
  s = Math.max(0, Math.round(s));
  if (s < 90) return s + " s";
  if (s < 5400) return Math.round(s / 60) + " min";
  return (s / 3600).toFixed(1) + " h";
}
function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  return e;
}
function svg(tag, attrs) {
  const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  return e;
}
function cell(tr, text, cls) { const td = el("td", cls ? { class: cls } : {}, text); tr.appendChild(td); return td; }

function drawChart(samples) {
  const chart = document.getElementById("rate-chart");
  chart.replaceChildren();
  const W = 500, H = 150, L = 62, R = 8, T = 8, B = 22;
  const series = samples || [];
  chart.appendChild(svg("rect", { x: L, y: T, width: W - L - R, height: H - T - B, fill: "#fcfcfc", stroke: "#ddd" }));
  if (series.length < 1) {
    const t = svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle", fill: "#888", "font-size": 12, class: "no-data" });
    t.textContent = "no rate samples yet"; chart.appendChild(t); return;
  }
  const t0 = series[0].time, t1 = Math.max(series[series.length - 1].time, t0 + 1);
  let top = 1; for (const p of series) top = Math.max(top, p.seeder, p.peers);
  const x = t => L + (W - L - R) * (t - t0) / (t1 - t0), y = v => H - B - (H - T - B) * v / top;
  for (const f of [0, 0.5, 1]) {
    chart.appendChild(svg("line", { x1: L, x2: W - R, y1: y(top * f), y2: y(top * f), stroke: "#eee" }));
    const lab = svg("text", { x: L - 4, y: y(top * f) + 4, "text-anchor": "end", "font-size": 10, fill: "#666" });
    lab.textContent = bytes(top * f) + "/s"; chart.appendChild(lab);
  }
  for (const [t, anchor] of [[t0, "start"], [t1, "end"]]) {
    const lab = svg("text", { x: x(t), y: H - 6, "text-anchor": anchor, "font-size": 10, fill: "#666" });
    lab.textContent = clock(t).slice(11, 16) + " UTC"; chart.appendChild(lab);
  }
  for (const [key, color] of [["seeder", "#2563eb"], ["peers", "#f59e0b"]]) {
    const pts = series.length === 1 ? [[L, y(series[0][key])], [W - R, y(series[0][key])]]
                                    : series.map(p => [x(p.time), y(p[key])]);
    chart.appendChild(svg("polyline", { class: "series-" + key, fill: "none", stroke: color, "stroke-width": 2,
                                        points: pts.map(p => p[0].toFixed(1) + "," + p[1].toFixed(1)).join(" ") }));
  }
}
function renderSummary(v) {
  const s = v.summary;
  const counts = document.getElementById("counts");
  counts.replaceChildren(el("span", { class: "count" }, s.nodes + " nodes"));
  for (const st of STATES) counts.appendChild(el("span", { class: "count state-" + st, "data-state": st }, s[st] + " " + st));
  let remaining = 0;
  for (const n of v.nodes) if (n.state === "working" && n.bytes_total > n.bytes_done) remaining += n.bytes_total - n.bytes_done;
  const eta = document.getElementById("eta");
  if (s.working === 0) eta.textContent = s.nodes ? "no node is flashing" : "no nodes have reported yet";
  else if (s.rate > 0) eta.textContent = "rack done in ~" + duration(remaining / s.rate) + " (about " +
    clock(v.time + remaining / s.rate).slice(11, 16) + " UTC): " + bytes(remaining) + " left at " + bytes(s.rate) + "/s";
  else eta.textContent = s.working + " flashing, no rate yet: no estimate";
  document.getElementById("summary").textContent = "from the seeder " + bytes(s.bytes_from_seeder) + ", from peers " +
    bytes(s.bytes_from_peers) + (s.bytes_from_seeder + s.bytes_from_peers > 0 ? " (" +
    (100 * s.bytes_from_peers / (s.bytes_from_seeder + s.bytes_from_peers)).toFixed(0) + "% from peers)" : "");
}
function historyRow(id) {
  const tr = el("tr", { class: "history", "data-node": id });
  const td = el("td", { colspan: 12 }); tr.appendChild(td);
  const h = histories.get(id);
  if (!h) { td.textContent = "loading history…"; return tr; }
  if (!h.history.length) { td.textContent = "no history yet (no flash finished, no first-boot report)"; return tr; }
  const t = el("table"); const head = el("tr");
  for (const c of ["time", "what", "release", "from seeder", "from peers", "details"]) head.appendChild(el("th", {}, c));
  t.appendChild(head);
  for (const e of h.history.slice().reverse()) {
    const r = el("tr", { class: "entry entry-" + e.kind });
    cell(r, clock(e.time));
    cell(r, e.kind === "flash" ? "flash " + e.outcome : e.kind === "order" ? "re-flash " + e.outcome : e.kind);
    cell(r, (e.board ? e.board + "/" : "") + (e.release || ""));
    cell(r, e.kind === "flash" ? bytes(e.bytes_from_seeder) : "", "num");
    cell(r, e.kind === "flash" ? bytes(e.bytes_from_peers) : "", "num");
    const d = e.kind === "flash" ? "took " + duration(e.time - e.started) + (e.error ? "; " + e.step + ": " + e.error : "")
            : [e.hostname && "host " + e.hostname, e.sequence !== undefined && "sequence " + e.sequence,
               e.stage && e.stage + ": " + e.reason, e.kind === "order" && "order " + e.id,
               e.order && "order " + e.order].filter(Boolean).join("; ");
    cell(r, d, "reason");
    t.appendChild(r);
  }
  td.appendChild(t);
  return tr;
}
async function loadHistory(id) {
  try {
    const r = await fetch("/v1/nodes/" + encodeURIComponent(id) + "/history", { cache: "no-store" });
    if (r.ok) { histories.set(id, await r.json()); render(last); }
  } catch (e) { /* shown at the next poll */ }
}
let last = null;
function render(v) {
  last = v;
  renderSummary(v);
  drawChart(v.rates);
  const body = document.getElementById("nodes");
  body.replaceChildren();
  for (const n of v.nodes) {
    const tr = el("tr", { class: "node " + n.state, "data-node": n.node_id, "data-state": n.state });
    tr.title = "click for the node's history";
    cell(tr, n.node_id); cell(tr, n.hostname || "–"); cell(tr, n.board);
    cell(tr, n.running_release || n.release);
    const st = cell(tr, ""); st.appendChild(el("span", { class: "state state-" + n.state }, n.state));
    cell(tr, n.step);
    const td = cell(tr, "", "progress");
    const bar = el("div", { class: "bar" }); const fill = el("div");
    fill.style.width = (100 * n.progress).toFixed(1) + "%"; bar.appendChild(fill); td.appendChild(bar);
    td.appendChild(el("span", { class: "pct" }, (100 * n.progress).toFixed(0) + "%"));
    td.title = (100 * n.progress).toFixed(1) + "% (" + bytes(n.bytes_done) + " / " + bytes(n.bytes_total) + ")";
    cell(tr, n.state === "working" ? bytes(n.rate) + "/s" : "", "num"); cell(tr, bytes(n.bytes_from_seeder), "num");
    const fp = cell(tr, bytes(n.bytes_from_peers), "num"); cell(tr, ago(n.last_seen, v.time), "num");
    if (n.banned_peers) fp.title = bytes(n.bytes_from_banned_peers) + " from banned peers: " + n.banned_peers;
    cell(tr, n.reason || n.error || (n.banned_peers ? "banned peers: " + n.banned_peers : ""), "reason");
    tr.addEventListener("click", () => {
      if (expanded.has(n.node_id)) expanded.delete(n.node_id); else { expanded.add(n.node_id); loadHistory(n.node_id); }
      render(last);
    });
    body.appendChild(tr);
    if (expanded.has(n.node_id)) body.appendChild(historyRow(n.node_id));
  }
  const log = document.getElementById("log");
  log.textContent = v.events.slice().reverse().map(e =>
    clock(e.time) + "  " + e.node_id + "  " + e.state + "  " + e.step + (e.release ? "  " + e.release : "") +
    (e.error ? "  error: " + e.error : "")).join("\n");
}
async function poll() {
  try {
    const r = await fetch("/v1/fleet", { cache: "no-store" });
    if (!r.ok) throw new Error("HTTP " + r.status);
    const v = await r.json();
    for (const id of expanded) loadHistory(id);
    render(v);
    document.getElementById("err").textContent = "";
  } catch (e) {
    document.getElementById("err").textContent = "seeder unreachable: " + e.message;
  }
  setTimeout(poll, 2000);
}
poll();
</script>
</body>
</html>
)HTML";
}  // namespace

std::string_view dashboard_html() { return kHtml; }

}  // namespace ironstone::seeder

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
  #summary { margin: .5em 0 1em; color: #444; }
  table { border-collapse: collapse; width: 100%; background: #fff; }
  th, td { text-align: left; padding: .35em .6em; border-bottom: 1px solid #e4e4e4; white-space: nowrap; }
  th { background: #f0f0f0; font-weight: 600; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  .bar { width: 14em; height: .9em; background: #e8e8e8; border-radius: 3px; overflow: hidden; }
  .bar > div { height: 100%; background: #3b82f6; }
  .done .bar > div { background: #16a34a; }
  .failed .bar > div { background: #dc2626; }
  .state-failed { color: #dc2626; font-weight: 600; }
  .state-done { color: #16a34a; }
  .state-stale { color: #a16207; }
  #log { font: 12px ui-monospace, monospace; background: #fff; border: 1px solid #e4e4e4; padding: .5em;
         max-height: 20em; overflow-y: auto; white-space: pre-wrap; }
  #err { color: #dc2626; }
</style>
</head>
<body>
<h1>Ironstone rack</h1>
<div id="summary">loading…</div><div id="err"></div>
<table>
  <thead><tr><th>node</th><th>mac</th><th>board</th><th>release</th><th>state</th><th>step</th>
  <th>progress</th><th>rate</th><th>from seeder</th><th>from peers</th><th>last seen</th><th>error</th></tr></thead>
  <tbody id="nodes"></tbody>
</table>
<h2 style="font-size:1.1em">Events</h2>
<div id="log"></div>
<script>
"use strict";
function bytes(n) {
  const u = ["B", "KiB", "MiB", "GiB", "TiB"]; let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : n) + " " + u[i];
}
function ago(t, now) { const s = Math.max(0, Math.round(now - t)); return s < 90 ? s + " s" : Math.round(s / 60) + " min"; }
function cell(tr, text, cls) { const td = document.createElement("td"); td.textContent = text; if (cls) td.className = cls; tr.appendChild(td); return td; }
function render(v) {
  const s = v.summary;
  document.getElementById("summary").textContent =
    s.nodes + " nodes: " + s.working + " working, " + s.done + " done, " + s.failed + " failed, " + s.stale +
    " stale; rack rate " + bytes(s.rate) + "/s; from seeder " + bytes(s.bytes_from_seeder) + ", from peers " +
    bytes(s.bytes_from_peers);
  const body = document.getElementById("nodes");
  body.replaceChildren();
  for (const n of v.nodes) {
    const tr = document.createElement("tr"); tr.className = n.state;
    cell(tr, n.node_id); cell(tr, n.mac); cell(tr, n.board); cell(tr, n.release);
    cell(tr, n.state, "state-" + n.state); cell(tr, n.step);
    const td = cell(tr, ""); const bar = document.createElement("div"); bar.className = "bar";
    const fill = document.createElement("div"); fill.style.width = (100 * n.progress).toFixed(1) + "%";
    bar.appendChild(fill); td.appendChild(bar);
    td.title = (100 * n.progress).toFixed(1) + "% (" + bytes(n.bytes_done) + " / " + bytes(n.bytes_total) + ")";
    cell(tr, bytes(n.rate) + "/s", "num"); cell(tr, bytes(n.bytes_from_seeder), "num");
    cell(tr, bytes(n.bytes_from_peers), "num"); cell(tr, ago(n.last_seen, v.time), "num"); cell(tr, n.error);
    body.appendChild(tr);
  }
  const log = document.getElementById("log");
  log.textContent = v.events.slice().reverse().map(e =>
    new Date(e.time * 1000).toISOString().replace("T", " ").slice(0, 19) + "  " + e.node_id + "  " + e.state +
    "  " + e.step + (e.release ? "  " + e.release : "") + (e.error ? "  error: " + e.error : "")).join("\n");
}
async function poll() {
  try {
    const r = await fetch("/v1/fleet", { cache: "no-store" });
    if (!r.ok) throw new Error("HTTP " + r.status);
    render(await r.json());
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

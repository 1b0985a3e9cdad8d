// The nereid console: one page over the public Neptune API (the same routes any client uses).
// Every request goes through `api()`, which signs it with SigV4 when the server wants IAM.
import "./style.css";
import cytoscape from "cytoscape";
import { EditorView, keymap } from "@codemirror/view";
import { basicSetup } from "codemirror";
import { StreamLanguage } from "@codemirror/language";
import { cypher } from "@codemirror/legacy-modes/mode/cypher";
import { AwsClient } from "aws4fetch";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

// ---- requests (SigV4 under --auth iam) ---------------------------------------------------
type Keys = { accessKeyId: string; secretAccessKey: string; sessionToken?: string; region: string };
let signer: AwsClient | null = null;
function loadKeys() {
  const raw = sessionStorage.getItem("nereid.keys");
  if (!raw) return;
  const k: Keys = JSON.parse(raw);
  signer = new AwsClient({ ...k, sessionToken: k.sessionToken || undefined, service: "neptune-db", region: k.region || "us-east-1" });
  $("auth-state").textContent = `signed as ${k.accessKeyId}`;
}
async function api(path: string, init: RequestInit = {}): Promise<Response> {
  const url = new URL(path, location.origin).toString();
  const r = signer ? await signer.fetch(url, init) : await fetch(url, init);
  if (r.status === 403 && !signer) askKeys();
  return r;
}
function askKeys() { $("login").hidden = false; $("login-open").hidden = false; }
$("login-open").onclick = askKeys;
$<HTMLFormElement>("login-form").onsubmit = (e) => {
  e.preventDefault();
  const f = new FormData(e.target as HTMLFormElement);
  const k: Keys = { accessKeyId: String(f.get("accessKeyId")), secretAccessKey: String(f.get("secretAccessKey")), sessionToken: String(f.get("sessionToken") || ""), region: String(f.get("region") || "us-east-1") };
  sessionStorage.setItem("nereid.keys", JSON.stringify(k));
  loadKeys();
  $("login").hidden = true;
  refreshSchema();
  pollRunning();
  refreshLoader();
};
const form = (fields: Record<string, string>) => ({
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams(fields).toString(),
});
async function errorText(r: Response): Promise<string> {
  const t = await r.text();
  try { const j = JSON.parse(t); return `${j.code ?? r.status}: ${j.detailedMessage ?? j.message ?? t}`; } catch { return `${r.status}: ${t}`; }
}

// ---- editor ------------------------------------------------------------------------------
const HISTORY = "nereid.history";
const history = (): string[] => JSON.parse(localStorage.getItem(HISTORY) || "[]");
function renderHistory() {
  const sel = $<HTMLSelectElement>("history");
  sel.innerHTML = `<option value="">History…</option>`;
  for (const q of history()) { const o = document.createElement("option"); o.value = q; o.textContent = q.slice(0, 80); sel.append(o); }
}
const editor = new EditorView({
  doc: "MATCH p=(a)-[r]->(b) RETURN p LIMIT 25",
  parent: $("editor"),
  extensions: [
    keymap.of([{ key: "Mod-Enter", run: () => { run(); return true; } }]),
    basicSetup,
    StreamLanguage.define(cypher),
  ],
});
(window as any).consoleEditor = { setQuery: (q: string) => setQuery(q) }; // for the browser tests
const setQuery = (q: string) => editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: q } });
$<HTMLSelectElement>("history").onchange = (e) => { const v = (e.target as HTMLSelectElement).value; if (v) setQuery(v); };

// ---- running a query ---------------------------------------------------------------------
let last: any = null;
function status(text: string, error = false) { const s = $("status-line"); s.textContent = text; s.className = error ? "error" : ""; }
async function run(queryText?: string, append = false) {
  const query = queryText ?? editor.state.doc.toString();
  let parameters = $<HTMLTextAreaElement>("params").value.trim() || "{}";
  try { JSON.parse(parameters); } catch (e) { status(`Parameters are not JSON: ${e}`, true); return; }
  if (!queryText) {
    const h = [query, ...history().filter((q) => q !== query)].slice(0, 50);
    localStorage.setItem(HISTORY, JSON.stringify(h)); renderHistory();
  }
  status("running…");
  const started = performance.now();
  const r = await api("/openCypher", form({ query, parameters }));
  const ms = Math.round(performance.now() - started);
  if (!r.ok) { status(await errorText(r), true); return; }
  const body = await r.json();
  status(`${body.results.length} rows in ${ms} ms`);
  if (append && last) { last.results.push(...body.results); } else { last = body; }
  $("view-raw").textContent = JSON.stringify(body, null, 2);
  renderTable(body.results);
  renderGraph(last.results, append);
}
$("run").onclick = () => run();
$("explain").onclick = async () => {
  const r = await api("/openCypher", form({ query: editor.state.doc.toString(), explain: "details", parameters: $<HTMLTextAreaElement>("params").value || "{}" }));
  $("view-plan").textContent = r.ok ? await r.text() : await errorText(r);
  showTab("plan");
};

// ---- table -------------------------------------------------------------------------------
function renderTable(rows: any[]) {
  const cols = rows.length ? Object.keys(rows[0]) : [];
  const esc = (s: string) => s.replace(/[&<>]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;" })[c]!);
  $("view-table").innerHTML = rows.length === 0 ? `<p class="muted">No rows.</p>` :
    `<table><thead><tr>${cols.map((c) => `<th>${esc(c)}</th>`).join("")}</tr></thead><tbody>` +
    rows.map((row) => `<tr>${cols.map((c) => `<td>${esc(JSON.stringify(row[c]))}</td>`).join("")}</tr>`).join("") + `</tbody></table>`;
}

// ---- graph picture -----------------------------------------------------------------------
const MAX_NODES = 500;
const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];
const colours = new Map<string, string>();
const colourOf = (label: string) => { if (!colours.has(label)) colours.set(label, PALETTE[colours.size % PALETTE.length]); return colours.get(label)!; };
const cy = cytoscape({
  container: $("cy"),
  style: [
    { selector: "node", style: { "background-color": "data(colour)", label: "data(caption)", "font-size": 10, width: 28, height: 28 } },
    { selector: "edge", style: { label: "data(type)", "font-size": 9, "curve-style": "bezier", "target-arrow-shape": "triangle", width: 1.5, "line-color": "#99a", "target-arrow-color": "#99a" } },
    { selector: ":selected", style: { "border-width": 3, "border-color": "#111", "line-color": "#111" } },
  ],
  wheelSensitivity: 0.3,
  maxZoom: 1.6,
});
(window as any).cy = cy; // the browser tests count nodes and edges through this
function collect(v: any, nodes: Map<string, any>, rels: Map<string, any>) {
  if (Array.isArray(v)) { v.forEach((x) => collect(x, nodes, rels)); return; }
  if (v && typeof v === "object") {
    if (v["~entityType"] === "node") { nodes.set(v["~id"], v); return; }
    if (v["~entityType"] === "relationship") { rels.set(v["~id"], v); return; }
    Object.values(v).forEach((x) => collect(x, nodes, rels));
  }
}
function caption(n: any) {
  const key = $<HTMLInputElement>("caption").value;
  const p = n["~properties"] ?? {};
  return String(p[key] ?? n["~labels"]?.[0] ?? n["~id"]);
}
function renderGraph(rows: any[], append: boolean) {
  const nodes = new Map<string, any>(), rels = new Map<string, any>();
  collect(rows, nodes, rels);
  if (!append) cy.elements().remove();
  const all = [...nodes.values()];
  const shown = all.slice(0, MAX_NODES);
  const ids = new Set(shown.map((n) => n["~id"]));
  cy.elements("node").forEach((n) => { ids.add(n.id()); });
  for (const n of shown) {
    if (cy.getElementById(n["~id"]).nonempty()) continue;
    const label = n["~labels"]?.[0] ?? "";
    cy.add({ group: "nodes", data: { id: n["~id"], caption: caption(n), colour: colourOf(label), raw: n } });
  }
  for (const r of rels.values()) {
    if (!ids.has(r["~start"]) || !ids.has(r["~end"]) || cy.getElementById(r["~id"]).nonempty()) continue;
    cy.add({ group: "edges", data: { id: r["~id"], source: r["~start"], target: r["~end"], type: r["~type"], raw: r } });
  }
  $("cap-note").textContent = all.length > MAX_NODES ? `Showing ${MAX_NODES} of ${all.length} nodes (the picture is capped; the table and JSON have everything).` : "";
  $("legend").innerHTML = [...new Set(cy.nodes().map((n) => n.data("raw")["~labels"]?.[0] ?? ""))]
    .map((l) => `<div><span style="background:${colourOf(l)}"></span>${l || "(no label)"}</div>`).join("");
  cy.layout({ name: cy.nodes().length > 200 ? "grid" : "cose", animate: false }).run();
}
$("caption").onchange = () => cy.nodes().forEach((n) => { n.data("caption", caption(n.data("raw"))); });
cy.on("tap", "node, edge", (e) => {
  const raw = e.target.data("raw");
  const box = $("inspector");
  box.hidden = false;
  box.innerHTML = "";
  const pre = document.createElement("pre");
  pre.textContent = JSON.stringify(raw, null, 2);
  box.append(pre);
  if (raw["~entityType"] === "node") {
    const b = document.createElement("button");
    b.textContent = "Expand neighbours";
    b.onclick = () => run(`MATCH p=(n)-[r]-(m) WHERE id(n) = ${JSON.stringify(raw["~id"])} RETURN p LIMIT 100`, true);
    box.append(b);
  }
  const c = document.createElement("button"); c.textContent = "Close"; c.onclick = () => { box.hidden = true; }; box.append(c);
});

// ---- tabs --------------------------------------------------------------------------------
function showTab(name: string) {
  document.querySelectorAll("#tabs button").forEach((b) => b.classList.toggle("active", (b as HTMLElement).dataset.tab === name));
  document.querySelectorAll(".view").forEach((v) => v.classList.toggle("active", v.id === `view-${name}`));
  if (name === "graph") cy.resize();
}
document.querySelectorAll<HTMLElement>("#tabs button").forEach((b) => (b.onclick = () => showTab(b.dataset.tab!)));

// ---- running queries (polling the status API) --------------------------------------------
async function pollRunning() {
  const box = $("running");
  try {
    const r = await api("/openCypher/status?includeWaiting=true");
    if (!r.ok) { box.innerHTML = `<span class="err"></span>`; box.firstChild!.textContent = await errorText(r); return; }
    const body = await r.json();
    box.innerHTML = body.queries.length ? "" : `<span class="muted">none</span>`;
    for (const q of body.queries) {
      const div = document.createElement("div"); div.className = "query"; div.dataset.queryId = q.queryId;
      const code = document.createElement("code"); code.textContent = q.queryString;
      const st = q.queryEvalStats;
      const info = document.createElement("div");
      info.textContent = `waited ${st.waited} ms · elapsed ${st.elapsed} ms${st.cancelled ? " · cancelled" : ""}`;
      const b = document.createElement("button"); b.textContent = "Cancel"; b.className = "cancel";
      b.onclick = async () => {
        const c = await api(`/openCypher/status/${encodeURIComponent(q.queryId)}`, { method: "DELETE" });
        if (!c.ok) info.textContent = await errorText(c);
      };
      div.append(code, info, b); box.append(div);
    }
  } catch (e) { box.textContent = String(e); }
}

// ---- schema and loader -------------------------------------------------------------------
async function refreshSchema() {
  const box = $("schema-body");
  const r = await api("/propertygraph/statistics/summary?mode=detailed");
  if (!r.ok) { box.textContent = await errorText(r); return; }
  const g = (await r.json()).payload.graphSummary;
  box.innerHTML = "";
  const section = (title: string, items: [string, string, string][]) => {
    const h = document.createElement("h4"); h.textContent = title; box.append(h);
    if (!items.length) { const m = document.createElement("div"); m.className = "muted"; m.textContent = "none"; box.append(m); }
    for (const [text, count, query] of items) {
      const a = document.createElement("a"); a.className = "schema-item"; a.textContent = count ? `${text} (${count})` : text;
      a.onclick = () => setQuery(query); box.append(a);
    }
  };
  const bt = (s: string) => "`" + s.replace(/`/g, "``") + "`";
  const flat = (list: Record<string, number>[]) => list.flatMap((o) => Object.entries(o));
  const info = document.createElement("div"); info.className = "muted"; info.textContent = `${g.numNodes} nodes, ${g.numEdges} relationships`; box.append(info);
  section("Labels", g.nodeLabels.map((l: string) => [l, "", `MATCH (n:${bt(l)}) RETURN n LIMIT 25`]));
  section("Relationship types", g.edgeLabels.map((t: string) => [t, "", `MATCH p=()-[r:${bt(t)}]->() RETURN p LIMIT 25`]));
  section("Node properties", flat(g.nodeProperties).map(([k, c]) => [k, String(c), `MATCH (n) WHERE n.${bt(k)} IS NOT NULL RETURN n LIMIT 25`]));
  section("Relationship properties", flat(g.edgeProperties).map(([k, c]) => [k, String(c), `MATCH p=()-[r]->() WHERE r.${bt(k)} IS NOT NULL RETURN p LIMIT 25`]));
}
$("schema-refresh").onclick = refreshSchema;
async function refreshLoader() {
  const box = $("loader");
  const r = await api("/loader");
  if (!r.ok) { box.innerHTML = `<span class="muted"></span>`; box.firstChild!.textContent = `not available (${await errorText(r)})`; return; }
  const body = await r.json();
  const ids: string[] = body.payload?.loadIds ?? [];
  box.textContent = ids.length ? "" : "no jobs";
  for (const id of ids) {
    const s = await api(`/loader/${encodeURIComponent(id)}`);
    const div = document.createElement("div"); div.className = "query";
    const j = s.ok ? await s.json() : null;
    const o = j?.payload?.overallStatus;
    div.textContent = o ? `${id}: ${o.status}, ${o.totalRecords ?? 0} records, ${o.totalTimeSpent ?? 0} s` : id;
    box.append(div);
  }
}

loadKeys();
renderHistory();
refreshSchema();
refreshLoader();
pollRunning();
setInterval(pollRunning, 1000);
setInterval(refreshLoader, 10000);

// End-to-end tests of the web console in headless Chromium (playwright-core driving Debian's
// /usr/bin/chromium), against the real nereid binary on a free port.
//   NEREID_BIN   the server binary (default: target/debug/nereid)
//   CHROMIUM     the browser (default: /usr/bin/chromium)
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const out = join(here, "output");
mkdirSync(out, { recursive: true });
const bin = process.env.NEREID_BIN || join(root, "target", "debug", "nereid");

let server, base, browser;

function startServer(extra = []) {
  const proc = spawn(bin, ["serve", "--in-memory", "--http-addr", "127.0.0.1:0", "--workers", "2", ...extra], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, RUST_LOG: "info" },
  });
  const address = new Promise((resolve, reject) => {
    let log = "";
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${log}`)), 20000);
    proc.stderr.on("data", (d) => {
      log += d;
      const m = log.match(/listening on (http:\/\/[0-9.:]+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    proc.on("exit", (code) => reject(new Error(`server exited ${code}:\n${log}`)));
  });
  return { proc, address };
}

let iamServer;

before(async () => {
  const started = startServer();
  server = started.proc;
  base = await started.address;
  const q = (query) => fetch(`${base}/openCypher`, {
    method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ query }),
  }).then((r) => { assert.equal(r.status, 200); return r.json(); });
  await q("CREATE (:Person {name: 'Ada'})-[:KNOWS {since: 1843}]->(:Person {name: 'Charles'})-[:WROTE]->(:Book {name: 'Engine'})");
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ], // playwright gives each launch a new empty profile
  });
});

after(async () => {
  await browser?.close();
  server?.kill("SIGTERM");
  iamServer?.kill("SIGTERM");
});

async function open(at = base) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 850 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`${at}/`);
  await page.waitForFunction(() => window.cy && window.consoleEditor);
  return { page, errors };
}

async function runInEditor(page, query) {
  await page.evaluate((q) => window.consoleEditor.setQuery(q), query);
  await page.click(".cm-content");
  await page.keyboard.press("Control+Enter");
}

test("a path query draws its nodes and relationships, and the table shows its row", async () => {
  const { page, errors } = await open();
  await runInEditor(page, "MATCH p=(:Person {name: 'Ada'})-[:KNOWS]->()-[:WROTE]->() RETURN p");
  await page.waitForFunction(() => window.cy.nodes().length > 0);
  assert.equal(await page.evaluate(() => window.cy.nodes().length), 3);
  assert.equal(await page.evaluate(() => window.cy.edges().length), 2);
  const types = await page.evaluate(() => window.cy.edges().map((e) => e.data("type")).sort());
  assert.deepEqual(types, ["KNOWS", "WROTE"]);
  const legend = await page.textContent("#legend");
  assert.match(legend, /Person/);
  assert.match(legend, /Book/);
  assert.match(await page.textContent("#status-line"), /1 rows/);
  await page.screenshot({ path: join(out, "graph.png") });
  // Clicking a node shows its ~id, labels and properties.
  await page.evaluate(() => window.cy.nodes().filter((n) => n.data("caption") === "Ada").emit("tap"));
  const inspector = await page.textContent("#inspector");
  assert.match(inspector, /"~labels"/);
  assert.match(inspector, /"Ada"/);
  await page.screenshot({ path: join(out, "inspector.png") });
  await page.click("#tabs button[data-tab=table]");
  assert.equal(await page.locator("#view-table tbody tr").count(), 1);
  assert.match(await page.textContent("#view-table thead"), /p/);
  await page.screenshot({ path: join(out, "table.png") });
  await page.click("#tabs button[data-tab=raw]");
  const raw = JSON.parse(await page.textContent("#view-raw"));
  assert.equal(raw.results[0].p.length, 5);
  assert.deepEqual(errors, []);
  await page.close();
});

test("a long query started in one tab is cancelled from another tab's running-queries panel", async () => {
  const a = await open();
  const b = await open();
  await runInEditor(a.page, "UNWIND range(1, 2000000000) AS x RETURN count(x)");
  const cancel = b.page.locator("#running .query", { hasText: "range(1, 2000000000)" }).locator("button.cancel");
  await cancel.waitFor({ timeout: 10000 });
  assert.match(await b.page.textContent("#running"), /elapsed \d+ ms/);
  await b.page.screenshot({ path: join(out, "running.png") });
  await cancel.click();
  await a.page.waitForFunction(() => /CancelledByUserException/.test(document.querySelector("#status-line").textContent), null, { timeout: 10000 });
  assert.equal(await a.page.getAttribute("#status-line", "class"), "error");
  await a.page.screenshot({ path: join(out, "cancelled.png") });
  await b.page.waitForFunction(() => !/2000000000/.test(document.querySelector("#running").textContent), null, { timeout: 5000 });
  assert.deepEqual(a.errors, []);
  assert.deepEqual(b.errors, []);
  await a.page.close();
  await b.page.close();
});

test("the schema sidebar lists labels, types and property keys, and a click gives a starter query", async () => {
  const { page } = await open();
  await page.waitForSelector("#schema-body .schema-item");
  const schema = await page.textContent("#schema-body");
  for (const word of ["Person", "Book", "KNOWS", "WROTE", "name (3)", "since (1)"]) assert.ok(schema.includes(word), `${word} in ${schema}`);
  await page.locator("#schema-body .schema-item", { hasText: "KNOWS" }).click();
  const text = await page.evaluate(() => document.querySelector(".cm-content").textContent);
  assert.match(text, /\[r:`KNOWS`\]/);
  await page.keyboard.press("Control+Enter").catch(() => {});
  await page.click("#run");
  await page.waitForFunction(() => window.cy.edges().length === 1);
  assert.equal(await page.evaluate(() => window.cy.nodes().length), 2);
  // Expanding Charles brings in the book he wrote, added to the picture.
  await page.evaluate(() => window.cy.nodes().filter((n) => n.data("caption") === "Charles").emit("tap"));
  await page.click("#inspector button:has-text('Expand neighbours')");
  await page.waitForFunction(() => window.cy.nodes().length === 3);
  assert.equal(await page.evaluate(() => window.cy.edges().length), 2);
  // Explain shows the plan table of the editor's query.
  await page.click("#explain");
  await page.waitForFunction(() => document.querySelector("#view-plan").textContent.length > 0);
  const plan = await page.textContent("#view-plan");
  assert.doesNotMatch(plan, /Exception/);
  assert.match(plan, /KNOWS/);
  await page.screenshot({ path: join(out, "explain.png") });
  // The loader may not exist yet: the panel says so instead of breaking.
  assert.ok((await page.textContent("#loader")).length > 0);
  await page.screenshot({ path: join(out, "console.png") });
  await page.close();
});

test("with --auth iam the console asks for keys and signs every request (SigV4 in the browser)", async () => {
  const started = startServer(["--auth", "iam", "--iam-config", join(root, "crates", "nereid-sigv4", "iam-config.example.json")]);
  iamServer = started.proc;
  const at = await started.address;
  // Unsigned API calls are refused; the pages themselves are served.
  assert.equal((await fetch(`${at}/openCypher/status`)).status, 403);
  assert.equal((await fetch(`${at}/metrics`)).status, 403);
  const login = async (page, key, secret) => {
    await page.waitForSelector("#login:not([hidden])");
    await page.fill("input[name=accessKeyId]", key);
    await page.fill("input[name=secretAccessKey]", secret);
    await page.click("#login-form button[type=submit]");
    await page.waitForSelector("#login", { state: "hidden" });
  };
  const admin = await open(at);
  await login(admin.page, "AKIDADMINEXAMPLE", "admin-secret-change-me");
  await runInEditor(admin.page, "CREATE p=(:City {name: 'Oslo'})-[:ROAD]->(:City {name: 'Bergen'}) RETURN p");
  await admin.page.waitForFunction(() => window.cy.edges().length === 1);
  assert.equal(await admin.page.evaluate(() => sessionStorage.getItem("nereid.keys") !== null && localStorage.getItem("nereid.keys") === null), true);
  await admin.page.click("#schema-refresh");
  await admin.page.waitForFunction(() => /City/.test(document.querySelector("#schema-body").textContent));
  await admin.page.waitForFunction(() => /none/.test(document.querySelector("#running").textContent), null, { timeout: 5000 });

  // The reader's policy allows reads and status, not writes: the console gets no more.
  const reader = await open(at);
  await login(reader.page, "AKIDREADEREXAMPLE", "reader-secret-change-me");
  await runInEditor(reader.page, "CREATE (:City {name: 'Trondheim'})");
  await reader.page.waitForFunction(() => /AccessDeniedException/.test(document.querySelector("#status-line").textContent));
  await runInEditor(reader.page, "MATCH (c:City) RETURN c");
  await reader.page.waitForFunction(() => window.cy.nodes().length === 2);
  await reader.page.screenshot({ path: join(out, "iam-reader.png") });
  assert.deepEqual(admin.errors, []);
  assert.deepEqual(reader.errors, []);
  await admin.page.close();
  await reader.page.close();
});

// The npm neo4j-driver (pinned in package.json) against the real nereid binary over Bolt on
// the HTTP port: RETURN 1, nodes whose elementId is the Neptune id HTTP reports, explicit and
// managed transactions, a streamed result in batches. Prints the Bolt version negotiated.
//   NEREID_BIN   the server binary (default: target/debug/nereid)
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import neo4j from "neo4j-driver";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const bin = process.env.NEREID_BIN || join(root, "target", "debug", "nereid");

let server, addr, driver;

function startServer() {
  const proc = spawn(bin, ["serve", "--in-memory", "--http-addr", "127.0.0.1:0", "--workers", "2"], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, RUST_LOG: "info" },
  });
  const address = new Promise((resolve, reject) => {
    let log = "";
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${log}`)), 20000);
    proc.stderr.on("data", (d) => {
      log += d;
      const m = log.match(/listening on http:\/\/([0-9.:]+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    proc.on("exit", (code) => reject(new Error(`server exited ${code}:\n${log}`)));
  });
  return { proc, address };
}

// A query over HTTP (Neptune's /openCypher), for checking what Bolt did.
async function http(query, parameters = {}) {
  const r = await fetch(`http://${addr}/openCypher`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ query, parameters: JSON.stringify(parameters) }),
  });
  assert.equal(r.status, 200, await r.clone().text());
  return (await r.json()).results;
}

before(async () => {
  const started = startServer();
  server = started.proc;
  addr = await started.address;
  driver = neo4j.driver(`bolt://${addr}`, neo4j.auth.basic("user", "any"), {
    disableLosslessIntegers: true,
  });
});

after(async () => {
  await driver?.close();
  server?.kill("SIGTERM");
});

test("RETURN 1 and the negotiated Bolt version", async () => {
  const { records } = await driver.executeQuery("RETURN 1 AS x");
  assert.equal(records[0].get("x"), 1);
  const info = await driver.getServerInfo();
  console.log(`neo4j-driver ${neo4j.version ?? "6.3.0"} negotiated Bolt ${info.protocolVersion}`);
  assert.ok(info.protocolVersion >= 4.4, `protocol ${info.protocolVersion}`);
});

test("created nodes read back with elementId = the Neptune ~id", async () => {
  const tag = `js${Date.now()}`;
  const session = driver.session();
  try {
    const created = await session.run(
      "CREATE (a:JsNode {tag: $tag, name: 'a'})-[r:LINKS {w: 2}]->(b:JsNode {tag: $tag, name: 'b'}) RETURN a, r, b",
      { tag },
    );
    const [a, r, b] = ["a", "r", "b"].map((k) => created.records[0].get(k));
    const read = await session.run(
      "MATCH (n:JsNode {tag: $tag}) RETURN n ORDER BY n.name", { tag },
    );
    assert.deepEqual(read.records.map((x) => x.get("n").elementId), [a.elementId, b.elementId]);
    assert.deepEqual([...a.labels], ["JsNode"]);
    assert.equal(a.properties.name, "a");
    assert.equal(r.type, "LINKS");
    assert.equal(r.startNodeElementId, a.elementId);
    assert.equal(r.endNodeElementId, b.elementId);
    const ids = await http(
      "MATCH (a:JsNode {tag: $tag, name: 'a'})-[r]->(b) RETURN id(a) AS a, id(r) AS r, id(b) AS b",
      { tag },
    );
    assert.deepEqual(ids, [{ a: a.elementId, r: r.elementId, b: b.elementId }]);
  } finally {
    await session.close();
  }
});

test("explicit transactions commit and roll back", async () => {
  const tag = `jstx${Date.now()}`;
  const count = async () =>
    (await http("MATCH (n:JsTx {tag: $tag}) RETURN count(n) AS c", { tag }))[0].c;
  const session = driver.session();
  try {
    const tx = session.beginTransaction();
    await tx.run("CREATE (:JsTx {tag: $tag})", { tag });
    const inside = await tx.run("MATCH (n:JsTx {tag: $tag}) RETURN count(n) AS c", { tag });
    assert.equal(inside.records[0].get("c"), 1);
    assert.equal(await count(), 0);
    await tx.commit();
    assert.equal(await count(), 1);
    assert.ok(session.lastBookmarks()[0].startsWith("nereid:"));

    const rolled = session.beginTransaction();
    await rolled.run("CREATE (:JsTx {tag: $tag})", { tag });
    await rolled.rollback();
    assert.equal(await count(), 1);

    const made = await session.executeWrite(async (t) => {
      const r = await t.run("CREATE (n:JsTx {tag: $tag}) RETURN n.tag AS t", { tag });
      return r.records[0].get("t");
    });
    assert.equal(made, tag);
    assert.equal(await count(), 2);
  } finally {
    await session.close();
  }
  const reader = driver.session({ defaultAccessMode: neo4j.session.READ });
  try {
    await assert.rejects(
      reader.executeRead((t) => t.run("CREATE (:JsTx {tag: $tag})", { tag })),
      (e) => e.code === "Neo.ClientError.Statement.AccessMode",
    );
  } finally {
    await reader.close();
  }
  assert.equal(await count(), 2);
});

test("a large result arrives in fetchSize batches", async () => {
  const session = driver.session({ fetchSize: 500 });
  try {
    const result = await session.run("UNWIND range(1, 20000) AS x RETURN x");
    let sum = 0;
    for (const r of result.records) sum += r.get("x");
    assert.equal(result.records.length, 20000);
    assert.equal(sum, (20000 * 20001) / 2);
  } finally {
    await session.close();
  }
});

// The explorer page: everything it shows comes from the server's JSON API;
// the position (model and path) lives in the URL fragment, so a link or a
// reload gives the same state.
"use strict";

const $ = (id) => document.getElementById(id);
let config = null;
let here = null;        // {model, path} shown now
let future = [];        // steps undone by Back, redone by Forward
let chartRequest = 0;   // the newest chart asked for; older answers are dropped
let pollTimer = null;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) {
    if (child !== null && child !== undefined) {
      node.append(child instanceof Node ? child : String(child));
    }
  }
  return node;
}

async function api(method, url, body) {
  const options = { method, headers: {} };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(url, options);
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

function showError(message) {
  const box = $("error");
  box.textContent = message || "";
  box.hidden = !message;
}

// --- the URL fragment: #/spec=raft&p=fsync%3Dlog_async&writes=2&faults=...&path=0.3.1

function toHash(position) {
  const q = new URLSearchParams();
  q.set("spec", position.model.spec);
  for (const p of position.model.params) q.append("p", p);
  if (position.model.writes !== null && position.model.writes !== undefined) q.set("writes", position.model.writes);
  if (position.model.reads !== null && position.model.reads !== undefined) q.set("reads", position.model.reads);
  if (position.model.faults) q.set("faults", position.model.faults);
  q.set("path", position.path.join("."));
  return "#/" + q.toString();
}

function fromHash() {
  const text = location.hash.replace(/^#\/?/, "");
  if (!text) return null;
  const q = new URLSearchParams(text);
  if (!q.get("spec")) return null;
  const writes = q.get("writes");
  const reads = q.get("reads");
  const path = (q.get("path") || "").split(".").filter((s) => s !== "").map(Number);
  return {
    model: { spec: q.get("spec"), params: q.getAll("p"), writes: writes === null ? null : Number(writes), faults: q.get("faults"),
             reads: reads === null ? null : Number(reads) },
    path,
  };
}

function sameModel(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

// --- moving around

// Show ``position``; false (and the error shown) if the server refuses it.
async function go(position, keepFuture = false) {
  let view;
  try {
    view = await api("POST", "/api/view", position);
  } catch (error) {
    showError(error.message);
    return false;
  }
  showError("");
  if (!keepFuture && here && sameModel(here.model, position.model)) {
    const longer = here.path.concat(future);
    const prefix = position.path.every((s, i) => longer[i] === s);
    future = prefix ? longer.slice(position.path.length) : [];
  } else if (!keepFuture) {
    future = [];
  }
  here = { model: view.model, path: view.path };
  const hash = toHash(here);
  if (location.hash !== hash) history.pushState(null, "", hash);
  render(view);
  drawChart(here);
  return true;
}

function step(index) {
  go({ model: here.model, path: here.path.concat([index]) });
}

function back() {
  if (!here.path.length) return;
  go({ model: here.model, path: here.path.slice(0, -1) });
}

function toEnd() {
  if (!future.length) return;
  go({ model: here.model, path: here.path.concat(future) });
}

function forward() {
  if (!future.length) return;
  go({ model: here.model, path: here.path.concat([future[0]]) });
}

// --- drawing the view

function render(view) {
  $("title").textContent = view.title;
  document.title = `${view.title} — modelcheck explorer`;
  $("back").disabled = view.path.length === 0;
  $("forward").disabled = future.length === 0;
  $("end").disabled = future.length === 0;
  renderEnabled(view);
  renderPath(view);
  renderProperties(view);
  renderState(view.state);
  $("trace").textContent = view.trace_text;
}

function renderEnabled(view) {
  const list = $("enabled");
  list.replaceChildren();
  if (!view.enabled.length) list.append(el("li", { class: "hint" }, "No step is enabled: the run ends here."));
  for (const s of view.enabled) {
    const classes = ["step", s.fault ? "fault" : "", s.kind ? `kind-${s.kind}` : "", future[0] === s.index ? "redo" : ""];
    const button = el("button", { class: classes.join(" "), "data-index": s.index, "data-label": s.label,
      title: s.breaks.length ? `Leads to a state breaking ${s.breaks.join(", ")}` : "" }, s.label);
    button.addEventListener("click", () => step(s.index));
    const warn = s.breaks.length ? el("span", { class: "breaks" }, `✗ breaks ${s.breaks.join(", ")}`) : null;
    list.append(el("li", {}, button, warn));
  }
}

function renderPath(view) {
  const list = $("path");
  list.replaceChildren();
  const start = el("button", { class: "pathstep" }, "Initial state");
  start.addEventListener("click", () => go({ model: here.model, path: [] }));
  list.append(el("li", { class: view.path.length === 0 ? "current" : "" }, start));
  view.labels.forEach((label, i) => {
    const button = el("button", { class: "pathstep", "data-step": i + 1 }, label);
    button.addEventListener("click", () => go({ model: here.model, path: here.path.slice(0, i + 1) }));
    list.append(el("li", { class: i === view.labels.length - 1 ? "current" : "" }, button));
  });
}

function renderProperties(view) {
  const list = $("properties");
  list.replaceChildren();
  const broken = view.properties.filter((p) => !p.holds);
  for (const p of view.properties) {
    list.append(el("li", { class: p.holds ? "holds" : "broken", "data-property": p.name },
      el("strong", {}, `${p.holds ? "✓" : "✗"} ${p.name}`),
      p.holds ? null : el("div", { class: "explanation" }, p.explanation)));
  }
  for (const name of view.recoverables) {
    list.append(el("li", { class: "unjudged" }, el("strong", {}, `? ${name}`),
      " (recoverable: judged over the whole state space, by a check)"));
  }
  const verdict = $("verdict");
  verdict.replaceChildren();
  verdict.className = broken.length ? "violation" : "";
  if (broken.length) {
    verdict.append(el("strong", {}, `✗ ${broken.map((p) => p.name).join(", ")} broken here`),
      ...broken.map((p) => el("div", {}, p.explanation)));
  }
}

function renderState(state) {
  const box = $("state");
  box.replaceChildren();
  if (state.kind === "choose") {
    box.append(el("p", {}, "This model has several initial states: choose one among the enabled steps."));
    return;
  }
  if (state.kind === "model") {
    box.append(fieldTable(state.fields));
    return;
  }
  const nodes = el("div", { class: "nodes" });
  for (const node of state.nodes) {
    const card = el("div", { class: "node" + (node.isolated ? " isolated" : "") + (node.stopped ? " stopped" : ""), "data-node": node.name },
      el("h3", {}, node.name, node.isolated ? el("span", { class: "tag" }, "cut off") : null,
        node.stopped ? el("span", { class: "tag" }, "stopped for good") : null));
    card.append(fieldTable(node.fields));
    nodes.append(card);
  }
  box.append(nodes);
  if (state.shared) {
    for (const [name, fields] of Object.entries(state.shared)) {
      box.append(el("div", { class: "panel shared" }, el("h3", {}, name),
        fieldTable(Object.entries(fields).map(([k, v]) => ({ name: k, value: v })))));
    }
  }
  const client = el("div", { class: "panel client" }, el("h3", {}, "Client"));
  const issued = Math.min(state.client.next_write - 1, state.client.writes);
  client.append(el("div", {}, `writes issued: ${issued} of ${state.client.writes}`));
  const acks = el("div", { class: "acks" }, "acknowledged: ");
  if (!state.client.acked.length) acks.append(el("span", { class: "hint" }, "nothing yet"));
  for (const a of state.client.acked) acks.append(el("span", { class: "ack" + (a.new ? " changed" : "") }, a.text));
  client.append(acks);
  if (state.client.reads) client.append(el("div", {}, `reads: ${state.client.reads}`));
  const faults = el("div", { class: "panel faults" }, el("h3", {}, "Fault budget left"));
  if (!state.faults.length) faults.append(el("span", { class: "hint" }, "no faults allowed"));
  for (const f of state.faults) {
    faults.append(el("span", { class: "budget" + (f.changed ? " changed" : "") + (f.left ? "" : " spent") },
      `${f.kind}: ${f.left} left of ${f.limit}`));
  }
  box.append(el("div", { class: "row" }, client, faults));
  const messages = el("div", { class: "panel" }, el("h3", {}, `Messages in flight (${state.messages.length})`));
  const list = el("ul", { class: "messages" });
  for (const m of state.messages) {
    list.append(el("li", { class: m.new ? "changed" : "" }, el("span", { class: "route" }, `${m.src} → ${m.dst}`), " ", m.text));
  }
  if (!state.messages.length) list.append(el("li", { class: "hint" }, "none"));
  messages.append(list);
  box.append(messages);
}

function fieldTable(fields) {
  const table = el("table", { class: "fields" });
  for (const f of fields) {
    const value = el("td", { class: "value" }, f.value);
    if (f.unsynced) {
      value.append(el("span", { class: "unsynced", title: "written but not fsynced: a power loss may undo it" }, "unsynced"));
      value.append(el("div", { class: "revert" }, `a power loss may leave ${f.may_revert_to.join(" or ")}`));
    }
    const name = el("td", { class: "name" }, f.name, f.durable ? el("span", { class: "disk", title: "a file on the node's disk (durable)" }, "disk") : null);
    table.append(el("tr", { class: (f.changed ? "changed" : "") + (f.unsynced ? " has-unsynced" : "") + (f.ghost ? " ghost" : ""), "data-field": f.name, ...(f.ghost ? { title: "a ghost field: bookkeeping for properties, kept through every fault" } : {}) }, name, value));
  }
  return table;
}

async function drawChart(position) {
  const ticket = ++chartRequest;
  const box = $("chart");
  box.classList.add("stale");
  try {
    const answer = await api("POST", "/api/chart", position);
    if (ticket !== chartRequest) return;
    const svg = new DOMParser().parseFromString(answer.svg, "image/svg+xml").documentElement;
    box.replaceChildren(document.importNode(svg, true));
  } catch (error) {
    if (ticket !== chartRequest) return;
    box.replaceChildren(el("p", { class: "hint" }, `No chart: ${error.message}`));
  }
  box.classList.remove("stale");
}

// --- opening traces, running checks

async function open(request) {
  try {
    const opened = await api("POST", "/api/open", request);
    // Opened at its start: Forward (or To the end) steps through it.
    future = opened.path;
    await go({ model: opened.model, path: [] }, true);
    $("opened").textContent = opened.explanation
      ? `Opened a trace of ${opened.path.length} steps (Forward steps through it); at its end: ${opened.explanation}` : "";
  } catch (error) {
    showError(`Cannot open it: ${error.message}`);
  }
}

async function runCheck() {
  try {
    const status = await api("POST", "/api/check", {
      model: here.model, max_states: Number($("max-states").value), time_limit: Number($("time-limit").value),
    });
    showCheck(status);
    clearInterval(pollTimer);
    pollTimer = setInterval(pollCheck, 1000);
  } catch (error) {
    showError(`Cannot run the check: ${error.message}`);
  }
}

async function pollCheck() {
  const status = await api("GET", "/api/check");
  showCheck(status);
  if (status.status !== "running") clearInterval(pollTimer);
}

function showCheck(status) {
  const box = $("check-status");
  box.replaceChildren();
  box.dataset.status = status.status;
  if (status.status === "running") {
    box.append(el("p", {}, `Checking ${status.model.spec}… (stops after ${status.limits.max_states.toLocaleString()} states or ${status.limits.time_limit} s)`));
    const stop = el("button", { id: "stop-check" }, "Stop");
    stop.addEventListener("click", async () => showCheck(await api("POST", "/api/check/stop", {})));
    box.append(stop);
  } else if (status.status === "error") {
    box.append(el("p", { class: "broken" }, `The check failed: ${status.error}`));
  } else if (status.status === "stopped") {
    box.append(el("p", {}, "The check was stopped."));
  } else if (status.status === "done") {
    const r = status.report;
    const words = { ok: "✓ ok: every reachable state checked", violation: `✗ violation of ${r.property}`,
      incomplete: `… incomplete (${r.limit}): nothing is proven` };
    box.append(el("p", { class: `verdict-${r.verdict}` }, el("strong", {}, words[r.verdict] || r.verdict)));
    box.append(el("p", { class: "hint" }, `${r.distinct_states.toLocaleString()} distinct states, depth ${r.depth}, ${r.seconds} s`));
    if (r.explanation) box.append(el("p", {}, r.explanation));
    if (status.path) {
      const button = el("button", { id: "step-through" }, `Step through its ${r.trace.length - 1}-step trace`);
      button.addEventListener("click", () => { future = status.path; go({ model: status.model, path: [] }, true); });
      box.append(button);
    } else if (status.path_error) {
      box.append(el("p", { class: "broken" }, status.path_error));
    }
  }
}

// --- start

async function start() {
  config = await api("GET", "/api/config");
  const select = $("gallery");
  for (const name of config.gallery) select.append(el("option", { value: name }, name));
  if (!config.gallery.length) select.append(el("option", { value: "" }, "(no gallery found)"));
  $("max-states").max = config.caps.max_states;
  $("time-limit").max = config.caps.time_limit;
  $("back").addEventListener("click", back);
  $("forward").addEventListener("click", forward);
  $("end").addEventListener("click", toEnd);
  $("restart").addEventListener("click", () => go({ model: here.model, path: [] }));
  $("copy").addEventListener("click", () => navigator.clipboard && navigator.clipboard.writeText(location.href));
  $("open-gallery").addEventListener("click", () => select.value && open({ gallery: select.value }));
  $("upload").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    let trace;
    try {
      trace = JSON.parse(await file.text());
    } catch (error) {
      showError(`${file.name} is not JSON: ${error.message}`);
      return;
    }
    open({ trace });
  });
  $("run-check").addEventListener("click", runCheck);
  $("chart").addEventListener("click", () => $("chart").classList.toggle("actual-size"));
  document.addEventListener("keydown", (event) => {
    if (event.altKey && event.key === "ArrowLeft") { event.preventDefault(); back(); }
    if (event.altKey && event.key === "ArrowRight") { event.preventDefault(); forward(); }
  });
  window.addEventListener("popstate", () => {
    const position = fromHash();
    if (position) go(position);
  });
  const shared = fromHash();
  if (!shared || !(await go(shared))) {
    const refused = $("error").textContent;
    await go({ model: config.model, path: [] });
    if (refused) showError(`The link's state could not be shown: ${refused}`);
  }
  const status = await api("GET", "/api/check");
  if (status.status !== "idle") showCheck(status);
}

start().catch((error) => showError(error.message));

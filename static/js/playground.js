// The playground: settings on one side, a conversation streamed token by token on the other.
(function () {
  "use strict";
  const root = document.getElementById("playground");
  if (!root) return;
  const $ = (id) => document.getElementById(id);
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const defaults = JSON.parse(root.dataset.defaults);
  const presets = JSON.parse(root.dataset.presets);
  const labels = $("t-labels").content.firstElementChild.dataset;
  const PARAMS = ["max_new_tokens", "temperature", "top_p", "top_k", "repetition_penalty", "presence_penalty",
    "frequency_penalty"];
  const RESUME_ATTEMPTS = 5;
  let history = [];      // chat turns sent so far
  let running = null;    // {id (once the stream names it), lastId, source (an EventSource resuming it)}
  let asking = false;    // a submit is on its way, not yet accepted or refused
  // The finished pairs on the page, each {text, before (how much of the chat history it was asked
  // after: always a prefix of `history`), result (the job as it ended)}: kept for this tab, so a
  // reload shows the conversation again.
  let pairs = [];
  const STORE = `playground:${root.dataset.user}`;

  const mode = () => document.querySelector('input[name="mode"]:checked').value;

  function applyDefaults() {
    const d = defaults[$("pg-model").value] || {};
    PARAMS.forEach((name) => {
      const box = $("pg-" + name), slider = $("pg-" + name + "-range");
      if (name === "max_new_tokens") { box.max = slider.max = d.max_cap || box.max; }
      box.value = slider.value = d[name] ?? box.value;
      // A setting this model's server does not take is not sent (it would be refused).
      const taken = !d.supported || d.supported.includes(name);
      box.disabled = slider.disabled = !taken;
      box.closest(".field").hidden = !taken;
    });
    $("pg-model-link").href = "/hub/model/" + $("pg-model").value + "/";
    summarise();
  }
  // The parameters fold away on a phone (the page folds them before its first paint); their
  // summary line says what is in effect while they are folded.
  function summarise() {
    const temperature = document.querySelector('label[for="pg-temperature"]').textContent;
    $("pg-params-summary").textContent =
      `${temperature} ${$("pg-temperature").value} · ${$("pg-max_new_tokens").value} ${labels.tokens}`;
  }
  $("pg-settings").addEventListener("input", summarise);
  PARAMS.forEach((name) => {
    const box = $("pg-" + name), slider = $("pg-" + name + "-range");
    slider.addEventListener("input", () => { box.value = slider.value; });
    box.addEventListener("input", () => { slider.value = box.value; });
  });
  // Another model takes the conversation on from here (as in OpenAI's playground), with its
  // defaults; the address names it, so a reload or a shared link opens the same model.
  $("pg-model").addEventListener("change", () => {
    applyDefaults();
    remember();
    const address = new URL(location.href);
    address.searchParams.set("model", $("pg-model").value);
    window.history.replaceState(null, "", address);  // `history` here is the chat's
  });
  document.querySelectorAll('input[name="mode"]').forEach((r) => r.addEventListener("change", () => {
    remember();
    $("system-field").hidden = mode() !== "chat";
    const input = $("pg-input-label");
    if (input) input.textContent = mode() === "chat" ? labels.you : labels.prompt;
  }));
  $("pg-preset").addEventListener("change", (event) => {
    const preset = presets.find((p) => p.key === event.target.value);
    if (!preset) return;
    $("pg-system").value = preset.system;
    if ($("pg-input")) $("pg-input").value = preset.user;
    $("pg-temperature").value = $("pg-temperature-range").value = preset.temperature;
    summarise();
  });

  function params() {
    const p = {};
    PARAMS.forEach((name) => { const box = $("pg-" + name); if (!box.disabled && box.value !== "") p[name] = Number(box.value); });
    if ($("pg-seed").value !== "") p.seed = Number($("pg-seed").value);
    const stop = $("pg-stop").value.split("\n").map(unescapeStop).filter(Boolean);
    if (stop.length) p.stop = stop;
    return p;
  }

  // Stop sequences are edited one per line, so a newline or a tab in one is written as an escape.
  // A textarea turns a carriage return into a new line, so it is written as an escape too.
  const STOP_ESCAPES = { n: "\n", r: "\r", t: "\t", "\\": "\\" };
  function unescapeStop(line) {
    return line.replace(/\\([nrt\\])/g, (_, c) => STOP_ESCAPES[c]);
  }
  function escapeStop(stop) {
    return stop.replace(/[\\\n\r\t]/g, (c) => ({ "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" })[c]);
  }

  // The request for `text`; `prior`: the conversation before it.
  function payload(text, prior = history) {
    const body = { model: $("pg-model").value, mode: mode(), params: params(), source: "web" };
    if (mode() === "chat") {
      const messages = [];
      if ($("pg-system").value.trim()) messages.push({ role: "system", content: $("pg-system").value });
      body.messages = messages.concat(prior, [{ role: "user", content: text }]);
    } else {
      body.prompt = text;
    }
    return body;
  }

  function turn(role, text) {
    const el = document.createElement("div");
    el.className = "turn " + role;
    const who = document.createElement("div");
    who.className = "role";
    who.textContent = role === "user" ? labels.you : labels.assistant;
    const body = document.createElement("div");
    body.className = "text";
    body.textContent = text;
    el.append(who, body);
    $("conversation").append(el);
    return el;
  }

  function showError(message) {
    $("pg-error").textContent = message;
    $("pg-error").hidden = !message;
  }

  function describe(errors) {
    if (typeof errors === "string") return errors;
    return Object.entries(errors).map(([field, value]) =>
      `${field}: ${Array.isArray(value) ? value.map(describe).join(" ") : typeof value === "object" ? describe(value) : value}`).join("; ");
  }

  // While a run is on its way or streaming, its conversation stays: the model, the mode, New
  // conversation and Edit wait for it (Stop ends it). Also run once at load, as a browser may
  // bring the controls back as they were when the page was left.
  function holdConversation() {
    const busy = asking || !!running;
    document.querySelectorAll('#pg-model, #pg-clear, input[name="mode"], #conversation .edit')
      .forEach((control) => { control.disabled = busy; });
  }

  function setRunning(job) {
    running = job;
    holdConversation();
    // A screen reader hears the answer once it is whole, not each fragment as it streams in.
    $("conversation").setAttribute("aria-busy", job ? "true" : "false");
    $("pg-send").hidden = !!job;
    $("pg-stop-run").hidden = !job;
    if (job) $("pg-stop-run").focus(); else $("pg-input").focus();
  }

  // One frame of a text/event-stream body: {id, event, data}.
  function parseFrame(block) {
    const frame = { id: null, event: "message", data: "" };
    block.split("\n").forEach((line) => {
      const colon = line.indexOf(":");
      if (colon <= 0) return;
      const field = line.slice(0, colon), value = line.slice(colon + 1).replace(/^ /, "");
      if (field === "id") frame.id = value;
      else if (field === "event") frame.event = value;
      else if (field === "data") frame.data += (frame.data ? "\n" : "") + value;
    });
    return frame;
  }

  // The events of a streamed answer, each handed to `on(event, data, id)` until it returns true
  // (a final event); false when the connection ended first.
  async function readEvents(response, on) {
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return false;
        // Lines may end in CRLF, LF or CR; a CR at a chunk's end may be half of a CRLF.
        buffer = (buffer + value).replace(/\r\n|\r(?!$)/g, "\n");
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const frame = parseFrame(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          if (frame.data && on(frame.event, JSON.parse(frame.data), frame.id)) {
            reader.cancel().catch(() => {});
            return true;
          }
        }
      }
    } catch (e) {
      return false;
    }
  }

  async function send(event) {
    event.preventDefault();
    const text = $("pg-input").value;
    if (text.trim()) await ask(text, { typed: true });
  }

  // A user turn opened for editing: sent, it replaces itself and everything after it (as in
  // ChatGPT); a refusal leaves the editor open with the text in it.
  function edit(asked, text, prior) {
    if (running || asked.querySelector(".editor")) return;
    const shown = asked.querySelector(".text"), tools = asked.querySelector(".turn-tools");
    const editor = Object.assign(document.createElement("div"), { className: "editor" });
    const box = Object.assign(document.createElement("textarea"), { rows: 3, value: text });
    box.setAttribute("aria-label", labels.edit);
    const resend = Object.assign(document.createElement("button"), { type: "button", className: "primary", textContent: labels.send });
    const cancel = Object.assign(document.createElement("button"), { type: "button", textContent: labels.cancel });
    const close = () => { editor.remove(); shown.hidden = tools.hidden = false; tools.querySelector(".edit").focus(); };
    const submit = () => { if (box.value.trim()) ask(box.value, { prior, replacing: asked }); };
    resend.addEventListener("click", submit);
    cancel.addEventListener("click", close);
    box.addEventListener("keydown", (e) => {
      if (e.isComposing) return;  // Escape or Enter picks from an input method's candidates
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) submit();
      else if (e.key === "Escape") close();
    });
    editor.append(box, Object.assign(document.createElement("div"), { className: "composer-actions" }));
    editor.lastChild.append(cancel, resend);
    shown.hidden = tools.hidden = true;
    asked.append(editor);
    box.focus();
  }

  // A question's turn, with its Edit button; it is pair number `pairs.length` once answered.
  function userTurn(text, before) {
    const asked = turn("user", text);
    asked.dataset.pair = pairs.length;
    const tools = Object.assign(document.createElement("div"), { className: "turn-tools" });
    const editButton = Object.assign(document.createElement("button"), { type: "button", className: "edit", textContent: labels.edit });
    editButton.addEventListener("click", () => edit(asked, text, before));
    tools.append(editButton);
    asked.append(tools);
    return asked;
  }

  // An answer's closing line: its figures, a link to the run, Copy, and Regenerate (only on the
  // latest answer: it is the end of the conversation).
  function endAnswer(answer, { text, before, asked, result, waited = 0 }) {
    const m = result.metrics || {};
    const metrics = document.createElement("div");
    metrics.className = "metrics";
    [waited >= 1 ? `${labels.waited} ${waited.toFixed(1)} s` : null,
     m.ttft_ms != null ? `${labels.ttft} ${Math.round(m.ttft_ms)} ms` : null,
     m.tokens_per_s != null ? `${m.tokens_per_s.toFixed(1)} ${labels.tps}` : null,
     m.completion_tokens != null ? `${m.prompt_tokens} + ${m.completion_tokens} ${labels.tokens}` : null,
     result.status === "cancelled" ? labels.stopped : null,
     // Why a finished answer ended short: it would otherwise read as the model's whole answer.
     result.status === "succeeded" && result.finish_reason === "length" ? labels.cutLength : null,
     result.status === "succeeded" && result.finish_reason === "timeout" ? labels.cutTime : null].filter(Boolean).forEach((t) => {
      const span = document.createElement("span"); span.textContent = t; metrics.append(span); });
    const link = Object.assign(document.createElement("a"), { href: result.url, textContent: labels.open });
    const out = answer.querySelector(".text");
    out.id = `answer-${result.id}`;
    const copy = Object.assign(document.createElement("button"), { type: "button", className: "copy", textContent: labels.copy });
    copy.dataset.copy = out.id;  // site.js copies the answer's text
    document.querySelectorAll("#conversation .regenerate").forEach((b) => b.remove());
    const again = Object.assign(document.createElement("button"), { type: "button", className: "regenerate", textContent: labels.regenerate });
    again.addEventListener("click", () => ask(text, { prior: before, replacing: asked }));
    metrics.append(link, copy, again);
    answer.append(metrics);
  }

  // This tab's conversation, kept for a reload (sessionStorage: gone with the tab, and on logout).
  function remember() {
    try {
      sessionStorage.setItem(STORE, JSON.stringify({
        model: $("pg-model").value, mode: mode(), system: $("pg-system").value, history, pairs }));
    } catch (e) {  // storage full or blocked: keep nothing rather than an older conversation
      try { sessionStorage.removeItem(STORE); } catch (ignored) { /* blocked */ }
    }
  }
  function recall() {
    try {
      restore(JSON.parse(sessionStorage.getItem(STORE) || "null"));
    } catch (e) {  // not what remember() writes: start afresh
      history = []; pairs = []; $("conversation").innerHTML = "";
      try { sessionStorage.removeItem(STORE); } catch (ignored) { /* blocked */ }
    }
  }
  // A finished answer: rendered as the server sanitised it (Markdown, code highlighted), its own
  // text kept for Copy; plain text where there is no rendering (an older tab's, a failure).
  function showAnswer(out, text, html) {
    out.dataset.source = text;
    if (html) {
      out.innerHTML = html;
      out.classList.add("prose");
    } else {
      out.textContent = text;
    }
  }

  function restore(kept) {
    if (!kept || !Array.isArray(kept.pairs)) return;
    const model = [...$("pg-model").options].find((o) => o.value === kept.model);
    if (model && !new URLSearchParams(location.search).has("model")) $("pg-model").value = kept.model;
    const radio = document.querySelector(`input[name="mode"][value="${kept.mode === "completion" ? "completion" : "chat"}"]`);
    $("pg-system").value = typeof kept.system === "string" ? kept.system : "";
    history = Array.isArray(kept.history) ? kept.history : [];
    // Turns from before this tab's first pair: a saved run opened here brings the conversation
    // it was asked after (each turn asked in this tab is a pair of its own).
    history.slice(0, kept.pairs.length ? kept.pairs[0].before : history.length)
      .forEach((message) => turn(message.role, message.content));
    kept.pairs.forEach((pair) => {
      const before = history.slice(0, pair.before);
      const asked = userTurn(pair.text, before);
      const answer = turn("assistant", "");
      showAnswer(answer.querySelector(".text"), pair.result.output || "", pair.result.output_html);
      endAnswer(answer, { text: pair.text, before, asked, result: pair.result });
      pairs.push(pair);
    });
    radio.checked = true;
    radio.dispatchEvent(new Event("change"));  // the fields that go with the mode (and it is kept)
  }

  // `text` asked, its answer streamed into a new pair of turns. `typed`: it came from the message
  // box, which is emptied once the run is accepted (a refusal leaves it there); `prior`: the
  // conversation before it; `replacing`: the turn that it and everything after it replace once
  // the run is accepted (an edit or a regenerate).
  async function ask(text, { typed = false, prior = history, replacing = null } = {}) {
    if (asking || running) return;  // one run at a time, whichever button asked twice
    const input = $("pg-input");
    showError("");
    // One request: the job and its stream come back together (the API's `stream: true`).
    let response;
    asking = true;
    holdConversation();
    try {
      response = await fetch("/api/v1/playground/jobs/", {
        method: "POST", body: JSON.stringify({ ...payload(text, prior), stream: true }),
        headers: { "Content-Type": "application/json", "Accept": "text/event-stream", "X-CSRFToken": csrf },
      });
    } catch (e) {
      showError(labels.streamFailed);
      return;  // the prompt stays in the box
    } finally {
      asking = false;
      holdConversation();
    }
    if (response.status !== 200) {
      const data = await response.json().catch(() => ({}));
      const wait = response.headers.get("Retry-After");
      showError(describe(data.detail || data) + (wait ? ` (${wait}s)` : ""));
      return;
    }
    if (typed) input.value = "";
    if (replacing) {
      while (replacing.nextElementSibling) replacing.nextElementSibling.remove();
      replacing.remove();
      pairs.length = Number(replacing.dataset.pair);
    }
    history = prior.slice();
    remember();
    const before = history.slice();
    const asked = userTurn(text, before);
    const answer = turn("assistant", "");
    answer.classList.add("streaming");
    const out = answer.querySelector(".text");
    out.dataset.waiting = labels.waiting;  // shown until the first token (a queue, a model loading)
    const sentAt = performance.now();
    let firstTokenAt = null;
    // The job's URL comes with the answer's headers, before any event: Stop works at once.
    const named = (response.headers.get("Location") || "").match(/\/jobs\/(\d+)\/$/);
    const job = { id: named ? Number(named[1]) : null, lastId: 0, source: null };
    setRunning(job);
    const finish = (result, failed) => {
      if (job.source) job.source.close();
      answer.classList.remove("streaming");
      // The engine times its first token from the job's start; what the reader waited before
      // that (the queue, a model loading) is told apart when it is noticeable.
      const ttft = (result.metrics || {}).ttft_ms;
      const waited = firstTokenAt != null && ttft != null ? (firstTokenAt - sentAt - ttft) / 1000 : 0;
      endAnswer(answer, { text, before, asked, result, waited });
      if (failed) showError(result.error);
      else if (mode() === "chat") history.push({ role: "user", content: text }, { role: "assistant", content: result.output });
      pairs.push({ text, before: before.length, result: { id: result.id, url: result.url, status: result.status,
                                                          output: result.output, output_html: result.output_html,
                                                          metrics: result.metrics } });
      remember();
      setRunning(null);
    };
    // Each event; true once the stream has ended (the stream's time limit came before the job
    // finished: stop listening, no reconnect).
    const on = (kind, data, id) => {
      if (id) job.lastId = id;
      if (kind === "job") { job.id = data.id; answer.dataset.job = data.id; }
      else if (kind === "token") {
        if (firstTokenAt === null) firstTokenAt = performance.now();
        out.textContent += data.text;
      }
      else if (kind === "done" || kind === "failed") {
        showAnswer(out, data.output, data.output_html);  // the job's own text: whatever the way here, it shows once and whole
        finish(data, kind === "failed");
        return true;
      }
      else if (kind === "timeout") { finish(data, true); showError(labels.timeout); return true; }
      return false;
    };
    if (await readEvents(response, on)) return;
    if (job.id === null) {  // no job to resume
      answer.classList.remove("streaming");
      showError(labels.streamFailed);
      setRunning(null);
      return;
    }
    // The connection dropped: resume after the last event (nothing twice), and let EventSource
    // retry from there by itself; a refused reconnect (e.g. 429) closes it, and so do
    // RESUME_ATTEMPTS failed ones in a row (the run goes on, under My runs).
    const source = new EventSource(`/api/v1/playground/jobs/${job.id}/stream/?last_event_id=${job.lastId}`);
    job.source = source;
    let failures = 0;
    ["token", "done", "failed", "timeout"].forEach((kind) =>
      source.addEventListener(kind, (e) => {
        failures = 0;
        if (on(kind, JSON.parse(e.data), e.lastEventId)) source.close();
      }));
    source.addEventListener("error", () => {
      if (++failures >= RESUME_ATTEMPTS) source.close();
      if (source.readyState === EventSource.CLOSED && running === job) {
        answer.classList.remove("streaming");
        showError(labels.streamFailed);
        setRunning(null);
      }
    });
  }

  const composer = $("composer");
  if (composer) {
    composer.addEventListener("submit", send);
    $("pg-input").addEventListener("keydown", (e) => {
      if (!e.isComposing && e.key === "Enter" && (e.ctrlKey || e.metaKey)) send(e);
    });
    $("pg-stop-run").addEventListener("click", async () => {
      if (!running || running.id === null) return;
      await fetch(`/api/v1/playground/jobs/${running.id}/cancel/`, { method: "POST", headers: { "X-CSRFToken": csrf } });
    });
    $("pg-clear").addEventListener("click", () => {
      history = []; pairs = []; $("conversation").innerHTML = ""; showError(""); remember();
    });
    $("pg-system").addEventListener("change", remember);
  }

  // A value as Python source: JSON's strings and numbers are Python's too; true, false and null are not.
  function python(value, indent = "") {
    if (value === null || value === undefined) return "None";
    if (value === true) return "True";
    if (typeof value === "number" && !Number.isFinite(value)) return "None";
    if (value === false) return "False";
    const inner = indent + "    ";
    if (Array.isArray(value)) {
      return value.length ? `[\n${value.map((v) => inner + python(v, inner)).join(",\n")},\n${indent}]` : "[]";
    }
    if (typeof value === "object") {
      const items = Object.entries(value).map(([k, v]) => `${inner}${JSON.stringify(k)}: ${python(v, inner)}`);
      return items.length ? `{\n${items.join(",\n")},\n${indent}}` : "{}";
    }
    return JSON.stringify(value);
  }

  $("pg-code").addEventListener("click", () => {
    const base = root.dataset.apiBase;
    const body = payload(($("pg-input") && $("pg-input").value) || "Hello!");
    delete body.source;
    // The job and its events in one request; without "stream", a 202 with the job, whose events
    // are at …/jobs/<id>/stream/.
    const streamed = python({ ...body, stream: true });
    $("code-requests").textContent = `import requests\n\nBASE = "${base}"\nheaders = {"Authorization": "Token YOUR_TOKEN"}\nbody = ${streamed}\nwith requests.post(f"{BASE}/api/v1/playground/jobs/", headers=headers, json=body, stream=True) as r:\n    for line in r.iter_lines(decode_unicode=True):\n        print(line)`;
    $("code-curl").textContent = `curl -N -X POST ${base}/api/v1/playground/jobs/ \\\n  -H "Authorization: Token YOUR_TOKEN" -H "Content-Type: application/json" \\\n  -d '${JSON.stringify({ ...body, stream: true }).replace(/'/g, "'\\''")}'`;
    const p = body.params;
    const args = [`model="${body.model}"`];
    if (body.mode === "chat") args.push(`messages=${JSON.stringify(body.messages)}`); else args.push(`prompt=${JSON.stringify(body.prompt)}`);
    if (p.max_new_tokens) args.push(`max_tokens=${p.max_new_tokens}`);
    ["temperature", "top_p", "presence_penalty", "frequency_penalty", "seed"].forEach((k) => {
      if (p[k] !== undefined) args.push(`${k}=${p[k]}`);
    });
    if (p.stop) args.push(`stop=${JSON.stringify(p.stop)}`);
    // Not OpenAI's parameters, but /v1/ takes them as vLLM does: the SDK sends them in the body.
    const extra = Object.fromEntries(["top_k", "repetition_penalty"].filter((k) => p[k] !== undefined).map((k) => [k, p[k]]));
    if (Object.keys(extra).length) args.push(`extra_body=${python(extra, "    ")}`);
    const call = body.mode === "chat" ? "client.chat.completions.create" : "client.completions.create";
    $("code-openai").textContent = `from openai import OpenAI\n\nclient = OpenAI(base_url="${base}/v1", api_key="YOUR_TOKEN")\nstream = ${call}(\n    ${args.join(",\n    ")},\n    stream=True,\n)\nfor chunk in stream:\n    print(chunk.choices[0]${body.mode === "chat" ? ".delta.content or \"\"" : ".text"}, end="")`;
    $("code-dialog").showModal();
  });

  // A saved run opened here (its page's "Open in playground"): its conversation, model and
  // settings, to go on from; the address then names the model only, so a reload keeps this tab's.
  function openRun(kept) {
    restore(kept);
    applyDefaults();
    const p = kept.params || {};
    PARAMS.forEach((name) => {
      const box = $("pg-" + name);
      if (p[name] != null && !box.disabled) box.value = $("pg-" + name + "-range").value = p[name];
    });
    $("pg-seed").value = p.seed ?? "";
    $("pg-stop").value = Array.isArray(p.stop) ? p.stop.map(escapeStop).join("\n") : "";
    summarise();
    remember();
    const address = new URL(location.href);
    ["run", "shared"].forEach((key) => address.searchParams.delete(key));
    address.searchParams.set("model", $("pg-model").value);
    window.history.replaceState(null, "", address);
  }

  const opened = $("pg-opened");
  if (composer && opened) {
    openRun(JSON.parse(opened.textContent));
  } else {
    if (composer) recall();
    applyDefaults();
  }
  holdConversation();
})();

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
  const PARAMS = ["max_new_tokens", "temperature", "top_p", "top_k", "repetition_penalty"];
  let history = [];      // chat turns sent so far
  let running = null;    // {id, source}

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
  }
  PARAMS.forEach((name) => {
    const box = $("pg-" + name), slider = $("pg-" + name + "-range");
    slider.addEventListener("input", () => { box.value = slider.value; });
    box.addEventListener("input", () => { slider.value = box.value; });
  });
  $("pg-model").addEventListener("change", () => { applyDefaults(); history = []; $("conversation").innerHTML = ""; });
  document.querySelectorAll('input[name="mode"]').forEach((r) => r.addEventListener("change", () => {
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
  });

  function params() {
    const p = {};
    PARAMS.forEach((name) => { const box = $("pg-" + name); if (!box.disabled && box.value !== "") p[name] = Number(box.value); });
    if ($("pg-seed").value !== "") p.seed = Number($("pg-seed").value);
    const stop = $("pg-stop").value.split(",").map((s) => s.trim()).filter(Boolean);
    if (stop.length) p.stop = stop;
    return p;
  }

  function payload(text) {
    const body = { model: $("pg-model").value, mode: mode(), params: params(), source: "web" };
    if (mode() === "chat") {
      const messages = [];
      if ($("pg-system").value.trim()) messages.push({ role: "system", content: $("pg-system").value });
      body.messages = messages.concat(history, [{ role: "user", content: text }]);
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

  function setRunning(job) {
    running = job;
    $("pg-send").hidden = !!job;
    $("pg-stop-run").hidden = !job;
    if (job) $("pg-stop-run").focus(); else $("pg-input").focus();
  }

  async function send(event) {
    event.preventDefault();
    const input = $("pg-input");
    const text = input.value;
    if (!text.trim() || running) return;
    showError("");
    const body = payload(text);
    const response = await fetch("/api/v1/playground/jobs/", {
      method: "POST", headers: { "Content-Type": "application/json", "X-CSRFToken": csrf }, body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (response.status !== 202) {
      const wait = response.headers.get("Retry-After");
      showError(describe(data.detail || data) + (wait ? ` (${wait}s)` : ""));
      return;  // the prompt stays in the box
    }
    input.value = "";
    turn("user", text);
    const answer = turn("assistant", "");
    answer.classList.add("streaming");
    answer.dataset.job = data.id;
    const out = answer.querySelector(".text");
    const source = new EventSource(`/api/v1/playground/jobs/${data.id}/stream/`);
    setRunning({ id: data.id, source });
    source.addEventListener("token", (e) => { out.textContent += JSON.parse(e.data).text; });
    const finish = (e, failed) => {
      source.close();
      answer.classList.remove("streaming");
      const job = JSON.parse(e.data);
      const m = job.metrics || {};
      const metrics = document.createElement("div");
      metrics.className = "metrics";
      metrics.innerHTML = "";
      [m.ttft_ms != null ? `${labels.ttft} ${Math.round(m.ttft_ms)} ms` : null,
       m.tokens_per_s != null ? `${m.tokens_per_s.toFixed(1)} ${labels.tps}` : null,
       m.completion_tokens != null ? `${m.prompt_tokens} + ${m.completion_tokens} ${labels.tokens}` : null,
       job.status === "cancelled" ? labels.stopped : null].filter(Boolean).forEach((t) => {
        const span = document.createElement("span"); span.textContent = t; metrics.append(span); });
      const link = Object.assign(document.createElement("a"), { href: job.url, textContent: labels.open });
      metrics.append(link);
      answer.append(metrics);
      if (failed) showError(job.error);
      else if (mode() === "chat") history.push({ role: "user", content: text }, { role: "assistant", content: job.output });
      setRunning(null);
    };
    source.addEventListener("done", (e) => finish(e, false));
    source.addEventListener("failed", (e) => finish(e, true));
    // EventSource's own error: a dropped connection is retried with Last-Event-ID (the stream
    // resumes after the last event, nothing twice); a refused one (e.g. 429) closes it.
    source.addEventListener("error", () => {
      if (source.readyState === EventSource.CLOSED) {
        answer.classList.remove("streaming");
        showError(labels.streamFailed);
        setRunning(null);
      }
    });
    // The stream's time limit came before the job finished: stop listening (no reconnect).
    source.addEventListener("timeout", (e) => { finish(e, true); showError(labels.timeout); });
  }

  const composer = $("composer");
  if (composer) {
    composer.addEventListener("submit", send);
    $("pg-input").addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) send(e); });
    $("pg-stop-run").addEventListener("click", async () => {
      if (!running) return;
      await fetch(`/api/v1/playground/jobs/${running.id}/cancel/`, { method: "POST", headers: { "X-CSRFToken": csrf } });
    });
    $("pg-clear").addEventListener("click", () => { history = []; $("conversation").innerHTML = ""; showError(""); });
  }

  $("pg-code").addEventListener("click", () => {
    const base = root.dataset.apiBase;
    const body = payload(($("pg-input") && $("pg-input").value) || "Hello!");
    delete body.source;
    const json = JSON.stringify(body, null, 2);
    $("code-requests").textContent = `import requests\n\nBASE = "${base}"\nheaders = {"Authorization": "Token YOUR_TOKEN"}\njob = requests.post(f"{BASE}/api/v1/playground/jobs/", headers=headers, json=${json}).json()\nwith requests.get(f"{BASE}/api/v1/playground/jobs/{job['id']}/stream/", headers=headers, stream=True) as r:\n    for line in r.iter_lines(decode_unicode=True):\n        print(line)`;
    $("code-curl").textContent = `curl -X POST ${base}/api/v1/playground/jobs/ \\\n  -H "Authorization: Token YOUR_TOKEN" -H "Content-Type: application/json" \\\n  -d '${JSON.stringify(body).replace(/'/g, "'\\''")}'`;
    const p = body.params;
    const args = [`model="${body.model}"`];
    if (body.mode === "chat") args.push(`messages=${JSON.stringify(body.messages)}`); else args.push(`prompt=${JSON.stringify(body.prompt)}`);
    if (p.max_new_tokens) args.push(`max_tokens=${p.max_new_tokens}`);
    ["temperature", "top_p", "seed"].forEach((k) => { if (p[k] !== undefined) args.push(`${k}=${p[k]}`); });
    if (p.stop) args.push(`stop=${JSON.stringify(p.stop)}`);
    const call = body.mode === "chat" ? "client.chat.completions.create" : "client.completions.create";
    $("code-openai").textContent = `from openai import OpenAI\n\nclient = OpenAI(base_url="${base}/v1", api_key="YOUR_TOKEN")\nstream = ${call}(\n    ${args.join(",\n    ")},\n    stream=True,\n)\nfor chunk in stream:\n    print(chunk.choices[0]${body.mode === "chat" ? ".delta.content or \"\"" : ".text"}, end="")`;
    $("code-dialog").showModal();
  });

  applyDefaults();
})();

// A fine-tuning job's page: numbers follow the job's event stream; the curves are redrawn on the
// server (an SVG fragment) at most every two seconds; the page reloads once the job has ended.
(function () {
  const root = document.getElementById("finetune-job");
  if (!root || root.dataset.finished === "1") return;
  const set = (id, text) => { const el = document.getElementById(id); if (el) el.textContent = text; };
  const fixed = (v, n) => (v === null || v === undefined ? "—" : Number(v).toFixed(n));
  // As the page's `clock` filter: 1:02:03 or 2:03.
  const clock = (v) => {
    if (v === null || v === undefined) return "—";
    const total = Math.max(0, Math.round(v));
    const [h, m, s] = [Math.floor(total / 3600), Math.floor(total / 60) % 60, total % 60];
    const pad = (n) => String(n).padStart(2, "0");
    return h ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
  };
  let chartsDue = false;
  let lastCharts = 0;
  function redrawCharts() {
    if (!chartsDue || Date.now() - lastCharts < 2000) return;
    chartsDue = false;
    lastCharts = Date.now();
    fetch(root.dataset.charts, { credentials: "same-origin" })
      .then((r) => (r.ok ? r.text() : null))
      .then((html) => { if (html !== null) document.getElementById("charts").innerHTML = html; });
  }
  setInterval(redrawCharts, 500);
  const source = new EventSource(root.dataset.stream);
  source.addEventListener("started", (e) => {
    const d = JSON.parse(e.data);
    set("total-steps", d.total_steps);
    set("attempts", d.attempt);
    set("status", root.dataset.runningLabel || "running");
  });
  source.addEventListener("progress", (e) => {
    const d = JSON.parse(e.data);
    set("step", d.step);
    set("total-steps", d.total_steps);
    set("epoch", fixed(d.epoch, 2));
    set("loss", fixed(d.loss, 4));
    set("lr", d.lr === null ? "—" : Number(d.lr).toExponential(2));
    set("examples-per-s", fixed(d.examples_per_s, 2));
    set("tokens-per-s", fixed(d.tokens_per_s, 0));
    set("eta", clock(d.eta_s));
    chartsDue = true;
  });
  source.addEventListener("checkpoint", (e) => set("checkpoint", JSON.parse(e.data).step));
  const end = () => { source.close(); window.location.reload(); };
  source.addEventListener("done", end);
  source.addEventListener("failed", end);
  source.addEventListener("timeout", () => { /* EventSource reconnects with Last-Event-ID */ });
})();

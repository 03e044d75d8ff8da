// The arena: the compare-mode pickers on the start page; on a battle page, both answers
// streamed at once (through the arena's streams, which never name the models) and the vote
// buttons enabled once both have finished.
(function () {
  "use strict";
  const form = document.getElementById("arena-form");
  if (form) {
    const compare = document.getElementById("arena-compare");
    const sync = () => {
      const mode = form.querySelector('input[name="mode"]:checked');
      compare.hidden = !mode || mode.value !== "compare";
    };
    form.querySelectorAll('input[name="mode"]').forEach((r) => r.addEventListener("change", sync));
    sync();
  }

  const root = document.getElementById("arena-battle");
  if (!root) return;
  const labels = document.getElementById("arena-labels").content.firstElementChild.dataset;
  const FINISHED = ["succeeded", "failed", "cancelled"];
  const panes = Array.from(root.querySelectorAll(".arena-pane"));

  function settle() {
    const states = panes.map((p) => p.dataset.status);
    if (!states.every((s) => FINISHED.includes(s))) return;
    const stop = document.getElementById("arena-stop");
    if (stop) stop.hidden = true;
    if (states.every((s) => s === "succeeded")) {
      document.querySelectorAll("#arena-vote button").forEach((b) => { b.disabled = false; });
      const wait = document.getElementById("arena-wait");
      if (wait && !wait.hidden) {
        wait.hidden = true;
        document.getElementById("arena-ready").textContent = labels.ready;  // told once, when they become votable
      }
    } else {
      document.getElementById("arena-error").hidden = false;
      const vote = document.getElementById("arena-vote");
      if (vote) vote.hidden = true;
    }
  }

  function metrics(pane, side) {
    const box = pane.querySelector(".metrics");
    box.textContent = "";
    const m = side.metrics || {};
    [m.ttft_ms != null ? `${labels.ttft} ${Math.round(m.ttft_ms)} ms` : null,
     m.tokens_per_s != null ? `${m.tokens_per_s.toFixed(1)} ${labels.tps}` : null,
     m.completion_tokens != null ? `${m.completion_tokens} ${labels.tokens}` : null].filter(Boolean).forEach((t) => {
      const span = document.createElement("span"); span.textContent = t; box.append(span); });
  }

  // Why an answer ended short: cut at the limits every side shares, or failed (the side's error
  // is the server's generic one while the names are hidden).
  function note(pane, side) {
    const box = pane.querySelector(".pane-note");
    const text = side.finish_reason === "length" ? labels.length
      : side.finish_reason === "timeout" ? labels.timeout : side.status === "failed" ? side.error : "";
    box.textContent = text;
    box.hidden = !text;
  }

  panes.forEach((pane) => {
    if (FINISHED.includes(pane.dataset.status)) return;
    const turn = pane.querySelector(".turn");
    const out = pane.querySelector(".text");
    out.textContent = "";  // the stream replays the answer from its first token
    const source = new EventSource(pane.dataset.stream);
    source.addEventListener("token", (e) => { out.textContent += JSON.parse(e.data).text; });
    const finish = (e) => {
      source.close();
      const side = JSON.parse(e.data);
      turn.classList.remove("streaming");
      out.dataset.source = side.output;
      if (side.output_html) {
        out.innerHTML = side.output_html;  // sanitised on the server, as the page renders it
        out.classList.add("prose");
      } else {
        out.textContent = side.output;
      }
      pane.dataset.status = side.status;
      if (root.dataset.revealed === "1") metrics(pane, side);  // speed would hint at the model
      note(pane, side);
      settle();
    };
    ["done", "failed", "timeout"].forEach((kind) => source.addEventListener(kind, finish));
    source.addEventListener("error", () => {
      if (source.readyState === EventSource.CLOSED) {
        turn.classList.remove("streaming");
        const error = document.getElementById("arena-error");
        error.textContent = labels.streamFailed;
        error.hidden = false;
      }
    });
  });
  settle();
})();

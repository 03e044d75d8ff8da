// Small progressive enhancements; every page works without them.
(function () {
  "use strict";
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

  // A submit button shows that it is working and cannot be pressed twice.
  document.addEventListener("submit", (event) => {
    const button = event.target.querySelector('button[type="submit"]:not([data-no-busy])');
    if (button) { button.setAttribute("aria-busy", "true"); setTimeout(() => button.disabled = true, 0); }
  });

  // Markdown fields get a Write / Preview pair of tabs; the preview is rendered by the server.
  function enhanceMarkdown(textarea) {
    if (textarea.dataset.enhanced) return;
    textarea.dataset.enhanced = "1";
    const tabs = document.createElement("div");
    tabs.className = "tabs";
    tabs.setAttribute("role", "tablist");
    const write = Object.assign(document.createElement("button"), { type: "button", textContent: document.documentElement.lang === "zh-hans" ? "编写" : "Write" });
    const show = Object.assign(document.createElement("button"), { type: "button", textContent: document.documentElement.lang === "zh-hans" ? "预览" : "Preview" });
    [write, show].forEach((b) => { b.setAttribute("role", "tab"); tabs.appendChild(b); });
    write.setAttribute("aria-selected", "true");
    const preview = document.createElement("div");
    preview.className = "preview prose";
    preview.hidden = true;
    preview.setAttribute("aria-live", "polite");
    textarea.before(tabs);
    textarea.after(preview);
    write.addEventListener("click", () => { preview.hidden = true; textarea.hidden = false; write.setAttribute("aria-selected", "true"); show.setAttribute("aria-selected", "false"); textarea.focus(); });
    show.addEventListener("click", async () => {
      const body = new URLSearchParams({ body: textarea.value });
      const response = await fetch(document.body.dataset.previewUrl, { method: "POST", body, headers: { "X-CSRFToken": csrf() } });
      preview.innerHTML = await response.text();  // sanitised by the server's allow-list
      preview.hidden = false; textarea.hidden = true;
      show.setAttribute("aria-selected", "true"); write.setAttribute("aria-selected", "false");
    });
  }
  document.querySelectorAll("textarea[data-markdown]").forEach(enhanceMarkdown);

  // Quote-reply: fill the reply box with a quote and remember which post it answers.
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-quote]");
    if (!button) return;
    const form = document.getElementById("reply-form");
    if (!form) return;
    const box = form.querySelector("textarea");
    const quoted = button.dataset.quote.split("\n").map((l) => "> " + l).join("\n");
    box.value = `${quoted}\n\n${box.value}`;
    form.querySelector('input[name="reply_to"]').value = button.dataset.post;
    box.focus();
  });

  // Copy buttons next to code snippets.
  document.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-copy]");
    if (!button) return;
    const code = document.getElementById(button.dataset.copy);
    try { await navigator.clipboard.writeText(code.innerText); button.textContent = "✓"; } catch (e) { /* clipboard blocked */ }
  });
})();

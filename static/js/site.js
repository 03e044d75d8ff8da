// Small progressive enhancements; every page works without them.
(function () {
  "use strict";
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;
  const t = (en, zh) => (document.documentElement.lang === "zh-hans" ? zh : en);

  // A submit button shows that it is working and cannot be pressed twice.
  document.addEventListener("submit", (event) => {
    const button = event.target.querySelector('button[type="submit"]:not([data-no-busy])');
    if (button) { button.setAttribute("aria-busy", "true"); setTimeout(() => button.disabled = true, 0); }
  });

  // "/" goes to the search box (as on Discourse, GitHub and Hugging Face), unless it is typed.
  document.addEventListener("keydown", (e) => {
    if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
    if (e.target.closest("input, textarea, select, [contenteditable]")) return;
    const box = document.getElementById("site-search");
    if (!box) return;
    e.preventDefault();
    box.focus();
    box.select();
  });

  // Markdown fields get a Write / Preview pair of tabs; the preview is rendered by the server.
  function enhanceMarkdown(textarea) {
    if (textarea.dataset.enhanced) return;
    textarea.dataset.enhanced = "1";
    const tabs = document.createElement("div");
    tabs.className = "tabs";
    tabs.setAttribute("role", "tablist");
    const write = Object.assign(document.createElement("button"), { type: "button", textContent: t("Write", "编写") });
    const show = Object.assign(document.createElement("button"), { type: "button", textContent: t("Preview", "预览") });
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

  // Reply to one post: the reply box remembers which (its Reply link, and Quote), says so, and
  // can go back to answering the thread.
  const replyingTo = (form, postId, name) => {
    form.querySelector('input[name="reply_to"]').value = postId;
    const note = form.querySelector("[data-replying-to]");
    if (!note) return;
    note.hidden = !postId;
    note.querySelector("[data-reply-name]").textContent = name || "";
  };
  document.addEventListener("click", (event) => {
    const form = document.getElementById("reply-form");
    const reply = event.target.closest("[data-reply], [data-cancel-reply]");
    if (!form || !reply) return;
    event.preventDefault();
    replyingTo(form, reply.dataset.reply || "", reply.dataset.replyName);
    form.querySelector("textarea").focus();
  });

  // Quote-reply: fill the reply box with a quote (the text selected in that post, else the post)
  // and remember which post it answers.
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-quote]");
    if (!button) return;
    const form = document.getElementById("reply-form");
    if (!form) return;
    const box = form.querySelector("textarea");
    const selection = window.getSelection();
    const prose = button.closest(".post").querySelector(".prose");
    const picked = selection && !selection.isCollapsed && prose.contains(selection.anchorNode)
      && prose.contains(selection.focusNode) ? selection.toString().trim() : "";
    const quoted = (picked || button.dataset.quote).split("\n").map((l) => "> " + l).join("\n");
    box.value = `${quoted}\n\n${box.value}`;
    replyingTo(form, button.dataset.post, button.dataset.replyName);
    box.dispatchEvent(new Event("input", { bubbles: true }));  // the draft keeps it
    box.focus();
  });

  // Drafts: what is typed in a form marked data-draft (its key names the member) is kept in this
  // browser until the server says the form went through (the page after it carries
  // data-draft-sent), and comes back when the page is opened again with the form empty (as
  // Discourse does): a session that ended or a thread locked meanwhile loses nothing. Logging out
  // forgets them all, and the playground's conversation kept for this tab: the browser may be shared.
  if (document.body.dataset.draftSent) localStorage.removeItem("draft:" + document.body.dataset.draftSent);
  document.addEventListener("submit", (event) => {
    if (!event.target.matches("form[data-forget-drafts]")) return;
    Object.keys(localStorage).filter((k) => k.startsWith("draft:")).forEach((k) => localStorage.removeItem(k));
    Object.keys(sessionStorage).filter((k) => k.startsWith("playground:")).forEach((k) => sessionStorage.removeItem(k));
  });
  document.querySelectorAll("form[data-draft]").forEach((form) => {
    const key = "draft:" + form.dataset.draft;
    const fields = [...form.querySelectorAll('textarea[name], input[type="text"][name], input[name="reply_to"]')];
    const saved = (() => { try { return JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { return null; } })();
    if (saved && fields.every((f) => !f.value.trim())) {
      fields.forEach((f) => { if (typeof saved[f.name] === "string") f.value = saved[f.name]; });
      const replyTo = form.querySelector('input[name="reply_to"]');
      const source = replyTo && replyTo.value && document.querySelector(`[data-reply="${CSS.escape(replyTo.value)}"]`);
      if (source) replyingTo(form, replyTo.value, source.dataset.replyName);
      const note = Object.assign(document.createElement("p"), { className: "draft-note", textContent: t("Draft restored. ", "已恢复草稿。") });
      const discard = Object.assign(document.createElement("button"), { type: "button", className: "linklike", textContent: t("Discard it", "丢弃") });
      discard.addEventListener("click", () => {
        fields.forEach((f) => { f.value = ""; });
        localStorage.removeItem(key);
        note.remove();
        form.querySelector("textarea").focus();
      });
      note.append(discard);
      form.prepend(note);
    }
    const keep = () => {
      const values = Object.fromEntries(fields.map((f) => [f.name, f.value]));
      try {
        if (fields.some((f) => f.type !== "hidden" && f.value.trim())) localStorage.setItem(key, JSON.stringify(values));
        else localStorage.removeItem(key);
      } catch (e) { /* storage full or blocked: no draft */ }
    };
    let timer = null;
    form.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(keep, 400); });
    form.addEventListener("submit", () => { clearTimeout(timer); keep(); });  // kept until it went through
    // Ctrl+Enter (⌘+Enter) sends, as in the playground: once, however long it is held.
    form.addEventListener("keydown", (e) => {
      if (e.isComposing || e.key !== "Enter" || !(e.ctrlKey || e.metaKey) || !e.target.matches("textarea")) return;
      e.preventDefault();
      if (!e.repeat && !form.querySelector('button[type="submit"][aria-busy="true"]')) form.requestSubmit();
    });
  });

  // Copy buttons: next to code snippets (data-copy names the element), and on every code block
  // in rendered posts and cards.
  document.querySelectorAll(".prose pre").forEach((pre, i) => {
    if (!pre.id) pre.id = `code-${i + 1}`;
    const button = Object.assign(document.createElement("button"), { type: "button", className: "copy-code", textContent: t("Copy", "复制") });
    button.dataset.copy = pre.id;
    const wrap = Object.assign(document.createElement("div"), { className: "code-block" });
    pre.before(wrap);
    wrap.append(button, pre);
  });
  async function copyText(text, button) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    // Plain HTTP: copy from a hidden box, inside an open dialog if the button is (outside it the
    // page is inert), and give the focus back to the button.
    const scratch = Object.assign(document.createElement("textarea"), { value: text });
    scratch.setAttribute("readonly", "");
    scratch.style.position = "fixed"; scratch.style.opacity = "0";
    (button.closest("dialog") || document.body).append(scratch);
    scratch.select();
    const copied = document.execCommand("copy");
    scratch.remove();
    button.focus();
    if (!copied) throw new Error("copy refused");
  }
  document.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-copy]");
    if (!button) return;
    const code = document.getElementById(button.dataset.copy);
    const label = button.dataset.label || (button.dataset.label = button.textContent);
    try {
      await copyText(code.dataset.source ?? code.innerText, button);  // a rendered answer's own text
      button.textContent = t("Copied", "已复制");
    } catch (e) {
      button.textContent = t("Select and copy", "请手动复制");
    }
    setTimeout(() => { button.textContent = label; }, 2000);
  });
})();

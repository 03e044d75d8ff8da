// The repository upload form: one request (so one commit), with progress shown per file from the
// bytes sent so far. A folder picked with the folder picker keeps its relative paths.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) { return; }
  var list = document.getElementById("upload-progress");

  function chosen() {
    var files = [];
    ["files", "folder-picker"].forEach(function (id) {
      var input = document.getElementById(id);
      Array.prototype.forEach.call(input.files || [], function (f) {
        files.push({ file: f, path: f.webkitRelativePath || f.name });
      });
    });
    return files;
  }

  function row(path, size) {
    var li = document.createElement("li");
    var label = document.createElement("span");
    label.textContent = path;
    var bar = document.createElement("progress");
    bar.max = Math.max(size, 1);
    bar.value = 0;
    li.appendChild(label);
    li.appendChild(bar);
    list.appendChild(li);
    return bar;
  }

  form.addEventListener("submit", function (event) {
    var files = chosen();
    if (!files.length) { return; } // let the server say which field is missing
    event.preventDefault();
    list.textContent = "";
    var data = new FormData();
    ["csrfmiddlewaretoken", "folder", "title", "message"].forEach(function (name) {
      var field = form.elements[name];
      if (field) { data.append(name, field.value); }
    });
    if (form.elements.extract && form.elements.extract.checked) { data.append("extract", "1"); }
    var bars = files.map(function (f) {
      data.append("paths", f.path);
      data.append("files", f.file, f.file.name);
      return { bar: row(f.path, f.file.size), size: f.file.size };
    });
    var button = form.querySelector("button[type=submit]");
    button.setAttribute("aria-busy", "true");
    button.disabled = true;
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action || window.location.href);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", function (e) {
      // Files are sent in order: spread the bytes sent over them.
      var left = e.loaded;
      bars.forEach(function (b) {
        var done = Math.min(Math.max(left, 0), b.size);
        b.bar.value = done;
        left -= b.size;
      });
    });
    xhr.addEventListener("load", function () {
      var answer = {};
      try { answer = JSON.parse(xhr.responseText); } catch (e) { answer = {}; }
      if (xhr.status === 200 && answer.url) {
        bars.forEach(function (b) { b.bar.value = b.bar.max; });
        list.insertAdjacentText("beforeend", form.dataset.done);
        window.location.href = answer.url;
        return;
      }
      button.disabled = false;
      button.removeAttribute("aria-busy");
      var errors = answer.errors || {};
      var messages = Object.keys(errors).map(function (k) { return errors[k].join(" "); });
      var li = document.createElement("li");
      li.className = "error";
      li.setAttribute("role", "alert");
      li.textContent = form.dataset.failed + " " + (messages.join(" ") || xhr.status);
      list.appendChild(li);
    });
    xhr.addEventListener("error", function () {
      button.disabled = false;
      button.removeAttribute("aria-busy");
      list.insertAdjacentText("beforeend", form.dataset.failed);
    });
    xhr.send(data);
  });
})();

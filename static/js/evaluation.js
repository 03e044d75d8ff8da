// An evaluation run's page: live progress from its event stream, then a reload for the results.
(function () {
  "use strict";
  var box = document.querySelector("[data-testid=run-progress]");
  if (!box || box.dataset.finished === "1" || !window.EventSource) return;
  var done = box.querySelector("[data-testid=run-done]");
  var total = box.querySelector("[data-testid=run-total]");
  var bar = box.querySelector("progress");
  var source = new EventSource(box.dataset.stream);
  source.addEventListener("progress", function (e) {
    var p = JSON.parse(e.data);
    done.textContent = p.done;
    total.textContent = p.total;
    bar.max = Math.max(1, p.total);
    bar.value = p.done;
  });
  function end() { source.close(); window.location.reload(); }
  source.addEventListener("done", end);
  source.addEventListener("failed", end);
})();

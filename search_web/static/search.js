// Relief Index: small progressive enhancements. Every page works without this file.
// 1. Search-as-you-type: a short list of matching pages under the box, from /api/search.
// 2. On phone widths the "Refine results" panel starts closed.
(function () {
  "use strict";

  var refine = document.querySelector(".refine");
  if (refine && window.matchMedia && window.matchMedia("(max-width: 760px)").matches) {
    refine.removeAttribute("open");
  }

  var input = document.getElementById("q");
  var panel = document.getElementById("live");
  var status = document.getElementById("live-status");
  if (!input || !panel || !window.fetch) return;

  var timer = null;
  var pending = null;
  var lastQuery = input.value.trim();

  function pageHref(result) {
    var path = String(result.page_id).split("/").map(encodeURIComponent).join("/");
    var hash = String(result.passage_id || "").split("#");
    return "/page/" + path + (hash.length > 1 ? "#passage-" + encodeURIComponent(hash[hash.length - 1]) : "");
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text; // text only: never markup from the index
    return node;
  }

  function hide() {
    panel.hidden = true;
    input.setAttribute("aria-expanded", "false");
  }

  function links() {
    return Array.prototype.slice.call(panel.querySelectorAll("a"));
  }

  function render(data, query) {
    panel.textContent = "";
    if (!data || !data.results || !data.results.length) {
      hide();
      status.textContent = "No quick matches; press Enter to search.";
      return;
    }
    var list = el("ul");
    list.setAttribute("aria-label", "Quick matches");
    data.results.forEach(function (r) {
      var item = el("li");
      var a = el("a");
      a.href = pageHref(r);
      a.appendChild(el("span", "live-title", r.title || r.page_id));
      if (r.heading && r.heading !== r.title) a.appendChild(el("span", "live-heading", r.heading));
      item.appendChild(a);
      list.appendChild(item);
    });
    var all = el("li");
    var more = el("a", "live-all", "See all " + data.total + " results for \u201c" + query + "\u201d");
    more.href = "/search?q=" + encodeURIComponent(query);
    all.appendChild(more);
    list.appendChild(all);
    panel.appendChild(list);
    panel.hidden = false;
    input.setAttribute("aria-expanded", "true");
    status.textContent = data.results.length + " quick matches; press the down arrow to browse them.";
  }

  function lookup() {
    var query = input.value.trim();
    if (query === lastQuery) return;
    lastQuery = query;
    if (pending) pending.abort();
    if (query.length < 2) { hide(); return; }
    pending = window.AbortController ? new AbortController() : null;
    var url = "/api/search?per_page=5&group=page&q=" + encodeURIComponent(query);
    fetch(url, { signal: pending ? pending.signal : undefined, headers: { Accept: "application/json" } })
      .then(function (resp) { return resp.ok ? resp.json() : null; })
      .then(function (data) { if (input.value.trim() === query) render(data, query); })
      .catch(function () { /* aborted or offline: the form still works */ });
  }

  input.setAttribute("aria-controls", "live");
  input.setAttribute("aria-expanded", "false");
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(lookup, 250);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown" && !panel.hidden) {
      var first = links()[0];
      if (first) { event.preventDefault(); first.focus(); }
    } else if (event.key === "Escape") {
      hide();
    }
  });
  panel.addEventListener("keydown", function (event) {
    var items = links();
    var at = items.indexOf(document.activeElement);
    if (event.key === "ArrowDown" && at < items.length - 1) { event.preventDefault(); items[at + 1].focus(); }
    else if (event.key === "ArrowUp") { event.preventDefault(); (at > 0 ? items[at - 1] : input).focus(); }
    else if (event.key === "Escape") { event.preventDefault(); hide(); input.focus(); }
  });
  document.addEventListener("click", function (event) {
    if (!panel.contains(event.target) && event.target !== input) hide();
  });
  input.form.addEventListener("submit", hide);
})();

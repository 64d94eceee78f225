/* Replace the fallback of deferred content (recommendation slots, targeted banners) with the
   visitor's own, after a page every anonymous visitor shares has loaded: one request per
   endpoint, never cached. Elements carry data-ecrm-deferred-url (the endpoint, perhaps with
   its own query) and data-ecrm-deferred (the key); the answer is {"fragments": {key: html}}.
   Without JavaScript, or if the request fails, the fallback stays: nothing is ever empty. */
(function (w, d) {
  "use strict";
  function load() {
    var byUrl = {};
    Array.prototype.forEach.call(d.querySelectorAll("[data-ecrm-deferred-url]"), function (el) {
      var url = el.getAttribute("data-ecrm-deferred-url");
      (byUrl[url] = byUrl[url] || []).push(el);
    });
    Object.keys(byUrl).forEach(function (url) {
      var els = byUrl[url], keys = [];
      els.forEach(function (el) {
        var key = el.getAttribute("data-ecrm-deferred");
        if (keys.indexOf(key) < 0) keys.push(key);
      });
      var query = keys.map(function (k) { return "f=" + encodeURIComponent(k); }).join("&");
      fetch(url + (url.indexOf("?") < 0 ? "?" : "&") + query,
            { credentials: "same-origin", cache: "no-store", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data || !data.fragments) return;
          els.forEach(function (el) {
            var html = data.fragments[el.getAttribute("data-ecrm-deferred")];
            if (typeof html !== "string" || !html.trim()) return;  // keep the fallback
            var box = d.createElement("div");
            box.innerHTML = html;
            var nodes = Array.prototype.slice.call(box.childNodes);
            el.replaceWith.apply(el, nodes);
          });
          d.documentElement.setAttribute("data-ecrm-personalised", "true");
          d.dispatchEvent(new CustomEvent("ecrm:personalised"));
        }, function () {});
    });
  }
  if (d.readyState === "loading") d.addEventListener("DOMContentLoaded", load); else load();
})(window, document);

/* oscar-ecrm browser tracker: page views, time on page, recommendation clicks.
   No framework. Honours Do Not Track, Global Privacy Control and consent.
   Commerce events (views, basket, orders) are recorded by the server. */
(function (w, d) {
  "use strict";
  var script = d.currentScript, cfg = script ? script.dataset : {};
  var endpoint = cfg.endpoint || "/tracking/v1", key = cfg.writeKey;
  var QUEUE = "ecrm_queue", YEAR = 31536000, HALF_HOUR = 1800;
  var n = w.navigator;
  function cookie(name) {
    var m = d.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return m ? decodeURIComponent(m[1]) : "";
  }
  function setCookie(name, value, maxAge) {
    d.cookie = name + "=" + encodeURIComponent(value) + "; path=/; max-age=" + maxAge + "; SameSite=Lax" +
      (w.location.protocol === "https:" ? "; Secure" : "");
  }
  function uuid() {
    if (w.crypto && w.crypto.randomUUID) return w.crypto.randomUUID();
    return "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, function (c) {
      var r = Math.random() * 16 | 0; return (c === "x" ? r : (r & 3 | 8)).toString(16);
    });
  }
  var optedOut = n.doNotTrack === "1" || w.doNotTrack === "1" || n.globalPrivacyControl === true;
  var consented = cfg.consentRequired !== "true" || cookie("ecrm_consent") === "yes";
  if (!key || optedOut || !consented) { w.ecrm = { track: function () {}, page: function () {} }; return; }

  var anonymousId = cookie("ecrm_aid") || uuid();
  setCookie("ecrm_aid", anonymousId, YEAR);
  var params = new URLSearchParams(w.location.search), campaign = {};
  ["source", "medium", "campaign", "term", "content"].forEach(function (f) {
    var v = params.get("utm_" + f); if (v) campaign[f === "campaign" ? "name" : f] = v;
  });
  var campaignKey = JSON.stringify(campaign), sessionId = cookie("ecrm_sid");
  if (!sessionId || (campaign.source && cookie("ecrm_scmp") !== campaignKey)) sessionId = uuid();
  setCookie("ecrm_sid", sessionId, HALF_HOUR);
  if (campaign.source) setCookie("ecrm_scmp", campaignKey, HALF_HOUR);

  function context() {
    var c = { page: { path: w.location.pathname, url: w.location.href, referrer: d.referrer,
      title: d.title, search: w.location.search }, locale: n.language, sessionId: sessionId,
      library: { name: "oscar-ecrm.js" } };
    if (campaign.source || campaign.medium) c.campaign = campaign;
    return c;
  }
  function message(type, fields) {
    var m = { type: type, messageId: uuid(), anonymousId: anonymousId, timestamp: new Date().toISOString(),
      context: context() };
    if (cfg.userId) m.userId = cfg.userId;
    for (var f in fields) m[f] = fields[f];
    return m;
  }
  function load() { try { return JSON.parse(w.localStorage.getItem(QUEUE)) || []; } catch (e) { return []; } }
  function save(q) { try { w.localStorage.setItem(QUEUE, JSON.stringify(q.slice(-500))); } catch (e) {} }
  var sending = false;
  function flush() {
    var q = load();
    if (sending || !q.length || n.onLine === false) return;
    sending = true;
    var batch = q.slice(0, 50);
    fetch(endpoint + "/batch", { method: "POST", credentials: "same-origin", keepalive: true,
      headers: { "Content-Type": "application/json", "Authorization": "Basic " + btoa(key + ":") },
      body: JSON.stringify({ batch: batch, sentAt: new Date().toISOString() }) })
      .then(function (r) {
        sending = false;
        // 4xx: the batch will never be accepted; drop it rather than retry forever.
        if (r.status < 500) { save(load().slice(batch.length)); flush(); } else retryLater();
      }, function () { sending = false; retryLater(); });
  }
  var timer;
  function retryLater() { clearTimeout(timer); timer = setTimeout(flush, 5000); }
  function enqueue(m) { var q = load(); q.push(m); save(q); flush(); }
  function beacon(m) {
    var body = JSON.stringify({ batch: [m], writeKey: key, sentAt: new Date().toISOString() });
    if (!(n.sendBeacon && n.sendBeacon(endpoint + "/batch", new Blob([body], { type: "text/plain" })))) enqueue(m);
  }
  var shownAt = Date.now();
  w.ecrm = {
    page: function (props) { enqueue(message("page", { name: d.title, properties: props || {} })); },
    track: function (event, props) { enqueue(message("track", { event: event, properties: props || {} })); },
    anonymousId: anonymousId, sessionId: sessionId
  };
  w.addEventListener("online", flush);
  var left = false;
  function leave() {
    if (left) return;
    left = true;
    beacon(message("track", { event: "Page Left",
      properties: { seconds_on_page: Math.round((Date.now() - shownAt) / 1000), path: w.location.pathname } }));
  }
  w.addEventListener("pagehide", leave);
  d.addEventListener("visibilitychange", function () { if (d.visibilityState === "hidden") leave(); });
  w.addEventListener("pageshow", function (e) { if (e.persisted) { left = false; shownAt = Date.now(); } });
  d.addEventListener("click", function (e) {
    var slot = e.target.closest && e.target.closest("[data-ecrm-token]");
    if (!slot) return;
    var m = message("track", { event: "Product Clicked", properties: { token: slot.dataset.ecrmToken,
      product_id: slot.dataset.ecrmProduct || "", slot: slot.dataset.ecrmSlot || "" } });
    beacon(m);
  }, true);
  // A link from an e-mail carries its recommendation token in the URL: report the click,
  // then drop the token from the address bar so a reload or a shared link does not repeat it.
  var landed = params.get("ecrm_token");
  if (landed) {
    w.ecrm.track("Product Clicked", { token: landed, product_id: "", slot: "" });
    params.delete("ecrm_token");
    var rest = params.toString();
    if (w.history.replaceState) w.history.replaceState(w.history.state, "", w.location.pathname + (rest ? "?" + rest : "") + w.location.hash);
  }
  w.ecrm.page();
})(window, document);

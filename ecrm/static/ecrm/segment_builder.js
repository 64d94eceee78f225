/* Segment rule builder: edits the rules JSON (ecrm.segment_rules) as nested groups of
   conditions, and shows the live count. No framework; the JSON field stays the source of truth. */
(function () {
  "use strict";
  var root = document.getElementById("segment-builder");
  if (!root) return;
  var field = document.getElementById(root.dataset.rulesField);
  var kind = document.getElementById(root.dataset.kindField);
  var countBox = document.getElementById("segment-count");
  // With the builder running, the JSON is for the record: fold it away below the builder.
  var group = field.closest(".form-group");
  if (group) {
    var details = el("details", {"class": "mb-3"}, [el("summary", {text: "The rules as JSON (advanced)"})]);
    group.parentNode.insertBefore(details, group);
    details.appendChild(group);
    details.parentNode.insertBefore(root, details);
    details.parentNode.insertBefore(countBox, details);
  }
  var ATTRIBUTES = {
    number: ["order_count", "revenue", "average_order_value", "session_count", "product_views", "basket_adds",
      "rfm_recency", "rfm_frequency", "rfm_monetary", "churn_risk", "probability_alive", "predicted_clv",
      "expected_purchases_90d", "expected_purchases_365d"],
    date: ["last_order_at", "last_seen_at", "first_seen_at"],
    text: ["rfm_group", "email", "region", "first_name", "last_name", "phone"],
    list: ["favourite_categories", "favourite_brands", "devices"]
  };
  var OPS = {
    number: [["gte", "at least"], ["lte", "at most"], ["eq", "exactly"], ["gt", "more than"], ["lt", "less than"], ["ne", "not"]],
    date: [["within_days", "within the last … days"], ["older_than_days", "more than … days ago (or never)"], ["is_empty", "never"]],
    text: [["eq", "is"], ["ne", "is not"], ["contains", "contains"], ["startswith", "starts with"], ["is_empty", "is empty"]],
    list: [["contains", "includes"], ["is_empty", "is empty"]]
  };
  var COUNT_OPS = [["gte", "at least"], ["eq", "exactly"], ["lte", "at most"]];
  var EVENTS = ["Product Viewed", "Product Added", "Product Removed", "Cart Viewed", "Checkout Started",
    "Order Completed", "Products Searched", "Product Clicked", "Coupon Applied", "Signed In", "Signed Up"];

  function kindOf(attribute) {
    for (var k in ATTRIBUTES) { if (ATTRIBUTES[k].indexOf(attribute) >= 0) return k; }
    return "number";
  }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key]; else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }
  function select(options, value, label) {
    var node = el("select", {"class": "form-control form-control-sm mr-1", "aria-label": label});
    options.forEach(function (option) {
      var pair = Array.isArray(option) ? option : [option, option.replace(/_/g, " ")];
      var opt = el("option", {value: pair[0], text: pair[1]});
      if (String(pair[0]) === String(value)) opt.selected = true;
      node.appendChild(opt);
    });
    return node;
  }
  function input(type, value, label, extra) {
    var node = el("input", Object.assign({type: type, "class": "form-control form-control-sm mr-1", "aria-label": label,
      placeholder: label}, extra || {}));
    if (value !== undefined && value !== null) node.value = value;
    return node;
  }

  /* The model: groups {mode: all|any|none, items: [...]}, conditions {type, ...fields}. */
  function fromRule(rule) {
    if (rule && rule.not) {
      var inner = fromRule(rule.not);
      return inner.items ? {mode: "none", items: inner.items} : {mode: "none", items: [inner]};
    }
    if (rule && (rule.all || rule.any)) {
      return {mode: rule.all ? "all" : "any", items: (rule.all || rule.any).map(fromRule)};
    }
    if (!rule) return {mode: "all", items: [{type: "event", event: "Product Viewed", op: "gte", count: 1}]};
    if (rule.attribute) return {type: "attribute", attribute: rule.attribute, op: rule.op, value: rule.value};
    if (rule.event) {
      var where = Object.keys(rule.where || {});
      return {type: "event", event: rule.event, op: rule.op || "gte", count: rule.count === undefined ? 1 : rule.count,
        within_days: rule.within_days, key: where[0] || "", keyValue: where.length ? rule.where[where[0]] : ""};
    }
    if (rule.orders) return Object.assign({type: "orders"}, rule.orders);
    if (rule.consent) return {type: "consent", channel: rule.consent.channel, topic: rule.consent.topic || "all"};
    return {type: "tag", tag: rule.tag || ""};
  }
  function numberOrText(value) {
    return value !== "" && !isNaN(Number(value)) ? Number(value) : value;
  }
  function toRule(node) {
    if (node.items) {
      var items = node.items.map(toRule);
      if (node.mode === "none") return {not: {any: items}};
      var group = {}; group[node.mode] = items; return group;
    }
    var days = node.within_days ? {within_days: Number(node.within_days)} : {};
    switch (node.type) {
      case "attribute":
        var rule = {attribute: node.attribute, op: node.op};
        if (node.op !== "is_empty") {
          var k = kindOf(node.attribute);
          rule.value = k === "number" || k === "date" ? Number(node.value) : String(node.value || "");
        }
        return rule;
      case "event":
        var ev = Object.assign({event: node.event, op: node.op, count: Number(node.count)}, days);
        if (node.key) { ev.where = {}; ev.where[node.key] = numberOrText(node.keyValue); }
        return ev;
      case "orders": return {orders: Object.assign({op: node.op || "gte", count: Number(node.count || 0)}, days)};
      case "consent": return {consent: {channel: node.channel || "email", topic: node.topic || "all"}};
      default: return {tag: node.tag || ""};
    }
  }

  var model;
  try { model = fromRule(JSON.parse(field.value || "null")); } catch (e) { model = fromRule(null); }
  if (!model.items) model = {mode: "all", items: [model]};

  function conditionFields(node) {
    var parts = [];
    function bind(control, key, rerender) {
      control.addEventListener(control.tagName === "SELECT" ? "change" : "input", function () {
        node[key] = control.value; rerender ? render() : changed();
      });
      return control;
    }
    if (node.type === "attribute") {
      node.attribute = node.attribute || "order_count";
      var k = kindOf(node.attribute);
      var ops = OPS[k];
      if (!ops.some(function (o) { return o[0] === node.op; })) node.op = ops[0][0];
      var all = [].concat(ATTRIBUTES.number, ATTRIBUTES.date, ATTRIBUTES.text, ATTRIBUTES.list);
      parts.push(bind(select(all, node.attribute, "attribute"), "attribute", true));
      parts.push(bind(select(ops, node.op, "comparison"), "op", true));
      if (node.op !== "is_empty") {
        parts.push(bind(input(k === "number" || k === "date" ? "number" : "text", node.value, k === "date" ? "days" : "value"), "value"));
      }
    } else if (node.type === "event" || node.type === "orders") {
      if (node.type === "event") {
        var name = bind(input("text", node.event, "event name", {list: "ecrm-events"}), "event");
        parts.push(name);
      } else {
        parts.push(el("span", {"class": "mr-1", text: "orders:"}));
      }
      parts.push(bind(select(COUNT_OPS, node.op || "gte", "comparison"), "op"));
      parts.push(bind(input("number", node.count === undefined ? 1 : node.count, "times", {min: 0, style: "width:6em"}), "count"));
      parts.push(el("span", {"class": "mr-1", text: "times in the last"}));
      parts.push(bind(input("number", node.within_days, "days (any time if empty)", {min: 1, style: "width:6em"}), "within_days"));
      parts.push(el("span", {"class": "mr-1", text: "days"}));
      if (node.type === "event") {
        parts.push(el("span", {"class": "mr-1", text: "where"}));
        parts.push(bind(input("text", node.key, "property (e.g. category)", {style: "width:10em"}), "key"));
        parts.push(el("span", {"class": "mr-1", text: "="}));
        parts.push(bind(input("text", node.keyValue, "value", {style: "width:10em"}), "keyValue"));
      }
    } else if (node.type === "consent") {
      parts.push(el("span", {"class": "mr-1", text: "has consent for"}));
      parts.push(bind(select([["email", "e-mail"], ["sms", "SMS"]], node.channel || "email", "channel"), "channel"));
      parts.push(bind(input("text", node.topic || "all", "topic"), "topic"));
    } else {
      parts.push(el("span", {"class": "mr-1", text: "is tagged"}));
      parts.push(bind(input("text", node.tag, "tag"), "tag"));
    }
    return parts;
  }

  function renderNode(node, parent, isRoot) {
    var box = el("div", {"class": node.items ? "border rounded p-2 mb-2 bg-white" : "form-inline mb-2"});
    var remove = el("button", {type: "button", "class": "btn btn-sm btn-outline-danger ml-1", text: "×", "aria-label": "remove"});
    remove.addEventListener("click", function () {
      parent.items.splice(parent.items.indexOf(node), 1);
      if (!parent.items.length) parent.items.push({type: "event", event: "Product Viewed", op: "gte", count: 1});
      render();
    });
    if (node.items) {
      var mode = select([["all", "Match all of"], ["any", "Match any of"], ["none", "Match none of"]], node.mode, "group");
      mode.addEventListener("change", function () { node.mode = mode.value; changed(); });
      var head = el("div", {"class": "form-inline mb-2"}, [mode]);
      if (!isRoot) head.appendChild(remove);
      box.appendChild(head);
      var children = el("div", {"class": "pl-3"});
      node.items.forEach(function (child) { children.appendChild(renderNode(child, node, false)); });
      box.appendChild(children);
      var addCondition = el("button", {type: "button", "class": "btn btn-sm btn-outline-primary mr-1", text: "+ condition"});
      addCondition.addEventListener("click", function () { node.items.push({type: "event", event: "Product Viewed", op: "gte", count: 1}); render(); });
      var addGroup = el("button", {type: "button", "class": "btn btn-sm btn-outline-secondary", text: "+ group"});
      addGroup.addEventListener("click", function () { node.items.push({mode: "any", items: [{type: "tag", tag: ""}]}); render(); });
      box.appendChild(el("div", {}, [addCondition, addGroup]));
      return box;
    }
    var type = select([["event", "did"], ["orders", "placed"], ["attribute", "profile"], ["consent", "consent"], ["tag", "tag"]],
      node.type, "condition type");
    type.addEventListener("change", function () {
      Object.keys(node).forEach(function (key) { delete node[key]; });
      node.type = type.value; render();
    });
    box.appendChild(type);
    conditionFields(node).forEach(function (part) { box.appendChild(part); });
    box.appendChild(remove);
    return box;
  }

  var timer = null;
  function changed() {
    field.value = JSON.stringify(toRule(model), null, 2);
    clearTimeout(timer);
    timer = setTimeout(count, 300);
  }
  function count() {
    var token = document.querySelector("#segment-form [name=csrfmiddlewaretoken]").value;
    fetch(root.dataset.countUrl, {method: "POST", body: field.value, credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": token}})
      .then(function (response) { return response.json().then(function (data) { return [response.ok, data]; }); })
      .then(function (result) {
        countBox.className = result[0] ? "lead" : "lead text-danger";
        countBox.textContent = result[0] ? result[1].count + " customers match now" : result[1].error;
      })
      .catch(function () { countBox.textContent = "The count is not available right now."; });
  }
  function render() {
    root.innerHTML = "";
    var list = el("datalist", {id: "ecrm-events"});
    EVENTS.forEach(function (name) { list.appendChild(el("option", {value: name})); });
    root.appendChild(list);
    root.appendChild(renderNode(model, null, true));
    changed();
  }
  function showForKind() { root.hidden = kind && kind.value === "static"; countBox.hidden = root.hidden; }
  if (kind) kind.addEventListener("change", showForKind);
  field.addEventListener("change", function () {
    try { model = fromRule(JSON.parse(field.value)); if (!model.items) model = {mode: "all", items: [model]}; render(); }
    catch (e) { countBox.className = "lead text-danger"; countBox.textContent = "The rules are not valid JSON."; }
  });
  showForKind();
  render();
})();

/* Mint Portal: rows ticked for a bulk action, shared by the journeys list and "My work".

   The table region redraws (its poll, paging, sorting) and would lose every tick; the ids ticked are kept here
   instead, in sessionStorage under the list's selection key (the region's data-selection-key: the list's filters
   without page, order or columns), so ticks survive redraws, paging and a Back from the bulk form. Ticked journeys
   the shown page does not hold are sent as hidden inputs of the selection form, so its submit names all of them.

   Markup: the selection <form>; the region (data-selection-form = the form's id, to be attached on load); in the region, row boxes input[data-select] (value = journey id, form = the
   selection form) and a header box input[data-select-all] (hidden until this runs); anywhere, [data-selected-count]
   (its text without ticks is the hint) and button[data-selection-clear] (hidden until this runs). A form with
   data-selection-forget (the bulk job's Confirm) forgets every kept selection when sent: those journeys are acted on.

   Without JavaScript the boxes of the shown page are sent as they are. */
(function () {
  "use strict";

  var PREFIX = "mint-selection:";

  function storage() {
    try { return window.sessionStorage; } catch (ignored) { return null; }
  }

  function attach(options) {
    var form = options.form;
    var regionId = options.region;
    var fallbackKey = options.key || regionId;
    var key = null;
    var ids = [];
    var hints = {};

    function region() { return document.getElementById(regionId); }
    function keyOf() {
      var box = region();
      return PREFIX + ((box && box.getAttribute("data-selection-key")) || fallbackKey);
    }
    function load() {
      key = keyOf();
      var store = storage();
      var saved = null;
      try { saved = store ? JSON.parse(store.getItem(key) || "[]") : []; } catch (ignored) { saved = []; }
      ids = Array.isArray(saved) ? saved.filter(function (id) { return typeof id === "string"; }) : [];
    }
    function save() {
      var store = storage();
      if (!store) return;
      try {
        if (ids.length) store.setItem(key, JSON.stringify(ids)); else store.removeItem(key);
      } catch (ignored) { /* Storage full or refused: the ticks still hold until the page is left. */ }
    }
    function boxes() {
      var box = region();
      return box ? Array.prototype.slice.call(box.querySelectorAll("input[data-select]")) : [];
    }
    function submits() {
      if (!form) return [];
      return Array.prototype.slice.call(document.querySelectorAll(
        "#" + form.id + " button[type=submit], button[type=submit][form='" + form.id + "']"));
    }

    function show() {
      var list = boxes();
      list.forEach(function (box) { box.checked = ids.indexOf(box.value) >= 0; });
      var all = region() && region().querySelector("input[data-select-all]");
      if (all) {
        all.hidden = !list.length;
        all.checked = list.length > 0 && list.every(function (box) { return box.checked; });
      }
      document.querySelectorAll("[data-selection-clear]").forEach(function (button) {
        button.hidden = !ids.length;
      });
      document.querySelectorAll("[data-selected-count]").forEach(function (count, index) {
        if (!(index in hints)) hints[index] = count.textContent;
        var text = ids.length ? ids.length + " selected" : hints[index];
        if (count.textContent !== text) count.textContent = text;
      });
      submits().forEach(function (button) { button.disabled = !ids.length; });
      if (!form) return;
      form.querySelectorAll("input[data-carried]").forEach(function (input) { input.remove(); });
      var shown = list.map(function (box) { return box.value; });
      ids.forEach(function (id) {
        if (shown.indexOf(id) >= 0) return;
        var input = document.createElement("input");
        input.type = "hidden";
        input.name = "journey";
        input.value = id;
        input.setAttribute("data-carried", "");
        form.appendChild(input);
      });
    }

    function set(box, on) {
      box.checked = on;
      var at = ids.indexOf(box.value);
      if (on && at < 0) ids.push(box.value);
      if (!on && at >= 0) ids.splice(at, 1);
    }

    function toggle(box, on) {
      set(box, on);
      save();
      show();
    }

    function clear() {
      ids = [];
      save();
      show();
    }

    document.addEventListener("change", function (event) {
      var target = event.target;
      if (!target.matches || !region() || !region().contains(target)) return;
      if (target.matches("input[data-select]")) {
        toggle(target, target.checked);
      } else if (target.matches("input[data-select-all]")) {
        boxes().forEach(function (box) { set(box, target.checked); });
        save();
        show();
      }
    });

    document.addEventListener("click", function (event) {
      var button = event.target.closest && event.target.closest("[data-selection-clear]");
      if (!button) return;
      clear();
      var all = region() && region().querySelector("input[data-select-all]");
      if (all && !all.hidden) all.focus();
    });

    document.addEventListener("htmx:afterSettle", function (event) {
      if (!event.target || event.target.id !== regionId) return;
      if (keyOf() !== key) load();
      show();
    });

    load();
    show();
    return { toggle: toggle, clear: clear, show: show };
  }

  document.addEventListener("submit", function (event) {
    if (!event.target.matches || !event.target.matches("form[data-selection-forget]")) return;
    var store = storage();
    if (!store) return;
    for (var i = store.length - 1; i >= 0; i--) {
      var name = store.key(i);
      if (name && name.indexOf(PREFIX) === 0) store.removeItem(name);
    }
  });

  window.MintSelection = { attach: attach };

  // A region naming its selection form (data-selection-form) is attached here; "My work" attaches its own, for
  // its "x" key.
  document.querySelectorAll("[data-selection-form][id]").forEach(function (region) {
    attach({ form: document.getElementById(region.getAttribute("data-selection-form")), region: region.id });
  });
})();

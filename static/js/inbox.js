/* Mint Portal, "My work" (templates/approvals/inbox.html): the decision panel as a modal dialog and the keyboard
   shortcuts. Without this script the page still works: Decide opens the panel's own page, Claim posts its form.

   The panel arrives by htmx into #decision-panel inside #decision-dialog; this script opens the dialog, puts the
   focus where the user asked (the reason, or Approve after "a"), returns it to the row on Esc or Close, and after
   a decision closes the dialog, says what happened in the page's message area and focuses the next row. */
(function () {
  "use strict";

  var dialog = document.getElementById("decision-dialog");
  var keys = document.getElementById("keys-dialog");
  if (!dialog) return;

  var ROWS = "#inbox-table tbody tr[data-journey]";
  // The row the user is on (a journey id): kept across the table's redraws (a poll, a decision).
  var current = null;
  // What the panel focuses when it arrives: "approve", "reject" or null (the reason).
  var intent = null;
  // The control that opened the panel, and the rows' order when a decision was sent.
  var opener = null;
  var order = [];
  // The row to focus once the table is redrawn after a decision.
  var pendingFocus = null;
  var closingAfterDecision = false;
  // The user chose to reject ("r", or Reject clicked): Ctrl+Enter in the reason then rejects, also after the
  // answer "a reason is required" redrew the form.
  var rejecting = false;

  function rows() { return Array.prototype.slice.call(document.querySelectorAll(ROWS)); }
  function rowOf(element) { return element && element.closest ? element.closest(ROWS) : null; }
  function rowById(id) { return rows().filter(function (row) { return row.getAttribute("data-journey") === id; })[0]; }
  function primary(row) { return row.querySelector("[data-row-primary]") || row.querySelector("a[href]"); }
  function currentRow() { return rowOf(document.activeElement) || (current && rowById(current)) || null; }

  function markCurrent(row) {
    rows().forEach(function (each) { each.classList.toggle("current", each === row); });
    current = row ? row.getAttribute("data-journey") : current;
  }

  function focusRow(row) {
    if (!row) return;
    markCurrent(row);
    var target = primary(row);
    if (!target) return;
    target.focus();
    target.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    var list = rows();
    if (!list.length) return;
    var row = currentRow();
    var index = row ? list.indexOf(row) + step : (step > 0 ? 0 : list.length - 1);
    focusRow(list[Math.max(0, Math.min(list.length - 1, index))]);
  }

  // --- the dialog ------------------------------------------------------------------------------------

  function panel() { return document.getElementById("decision-panel"); }

  function focusIntent() {
    var box = panel();
    if (!box) return;
    var target = null;
    if (intent === "approve") target = box.querySelector("button[data-decision=approve]");
    if (!target) target = box.querySelector(".has-error textarea") || box.querySelector("textarea");
    if (!target) target = box.querySelector("#decision-title");
    if (!target) return;
    if (!target.matches("a, button, input, select, textarea")) target.setAttribute("tabindex", "-1");
    target.focus();
    if (intent === "reject") rejecting = true;
    intent = null;
  }

  function openRow(row, wanted) {
    if (!row) return;
    markCurrent(row);
    var decide = row.querySelector("[data-decide]");
    if (!decide) {
      // A manual step is continued on the journey's page.
      if (!wanted) primary(row).click();
      return;
    }
    intent = wanted || null;
    opener = decide;
    var box = panel();
    if (dialog.open && box && box.getAttribute("data-journey") === row.getAttribute("data-journey")) {
      focusIntent();
      return;
    }
    decide.click();
  }

  function closeDialog() {
    var box = panel();
    if (box) box.classList.remove("sheet");
    if (dialog.open) dialog.close();
  }

  // Esc (the dialog's own cancel), Close, or a decision: the focus goes back to the row, or on to the next one.
  dialog.addEventListener("close", function () {
    rejecting = false;
    var box = panel();
    if (box) box.classList.remove("sheet");
    if (closingAfterDecision) { closingAfterDecision = false; return; }
    var row = (opener && document.body.contains(opener) && rowOf(opener)) || (current && rowById(current));
    if (row) focusRow(row);
    else if (opener && document.body.contains(opener)) opener.focus();
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-dialog-close]")) { closeDialog(); return; }
    if (event.target.closest("#decision-dialog button[data-decision]")) {
      rejecting = event.target.closest("button[data-decision]").getAttribute("data-decision") === "reject";
    }
    var decide = event.target.closest("[data-decide]");
    if (decide) { opener = decide; markCurrent(rowOf(decide)); }
  });

  // The decision's answer arrives: remember the rows' order, so "the next row" is known after the table changes.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    if (form && form.closest && form.closest("#decision-dialog") && form.tagName === "FORM") {
      order = rows().map(function (row) { return row.getAttribute("data-journey"); });
    }
  });

  function announce(text) {
    var area = document.getElementById("flash");
    if (!area || !text) return;
    area.querySelectorAll(".flash-success, .flash-info").forEach(function (older) { older.remove(); });
    var item = document.createElement("div");
    item.className = "flash flash-success";
    item.setAttribute("role", "status");
    var words = document.createElement("span");
    words.textContent = text;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "flash-close";
    close.setAttribute("data-dismiss", "");
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    item.appendChild(words);
    item.appendChild(close);
    area.appendChild(item);
  }

  function nextAfter(id) {
    var ids = order.length ? order : rows().map(function (row) { return row.getAttribute("data-journey"); });
    var at = ids.indexOf(id);
    var later = ids.slice(at + 1).concat(ids.slice(0, Math.max(at, 0)).reverse());
    for (var i = 0; i < later.length; i++) {
      if (rowById(later[i])) return later[i];
    }
    return null;
  }

  function decided(forms) {
    var id = forms.getAttribute("data-decided");
    var outcome = forms.querySelector("[data-outcome]");
    pendingFocus = nextAfter(id);
    order = [];
    closingAfterDecision = dialog.open;
    closeDialog();
    announce(outcome ? outcome.textContent.trim() : "");
    var next = pendingFocus && rowById(pendingFocus);
    if (next) focusRow(next);
    else focusSummary();
  }

  function focusSummary() {
    var summary = document.querySelector("#inbox-table .table-summary");
    if (!summary) return;
    summary.setAttribute("tabindex", "-1");
    summary.focus();
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.target;
    if (!target || !target.id) return;
    if (target.id === "decision-panel" && dialog.contains(target)) {
      if (!dialog.open) dialog.showModal();
      focusIntent();
    } else if (target.id === "decision-forms" && dialog.contains(target)) {
      if (target.hasAttribute("data-decided")) decided(target);
    } else if (target.id === "inbox-table") {
      // The table was redrawn (a poll, a decision, a filter): the row the user was on stays marked.
      var row = current && rowById(current);
      if (pendingFocus) {
        var next = rowById(pendingFocus) || row;
        pendingFocus = null;
        if (next) focusRow(next); else focusSummary();
      } else if (row) {
        row.classList.add("current");
      }
    }
  });

  document.addEventListener("focusin", function (event) {
    var row = rowOf(event.target);
    if (row) markCurrent(row);
  });

  // --- claims ----------------------------------------------------------------------------------------

  function redrawTable() {
    var table = document.getElementById("inbox-table");
    if (table && window.htmx) {
      window.htmx.ajax("GET", table.getAttribute("hx-get"), { target: "#inbox-table", swap: "outerHTML" });
    }
  }

  function announceError(text) {
    announce(text);
    var item = document.querySelector("#flash .flash:last-child");
    if (item) { item.className = "flash flash-error"; item.setAttribute("role", "alert"); }
  }

  // A claim answers with the journey page's claim region, which the inbox does not show: its message arrives
  // out of band, a refusal's sentence is read from the answer, and the table is redrawn with the holder either way.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (!form || !form.matches || !form.matches("form[data-claim]")) return;
    var row = rowOf(form);
    if (row) pendingFocus = row.getAttribute("data-journey");
    var xhr = event.detail.xhr;
    if (xhr && xhr.status >= 400) {
      var reason = "";
      try {
        var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
        var errors = doc.querySelector(".form-errors, [role=alert]");
        reason = errors ? errors.textContent.replace(/\s+/g, " ").trim() : "";
      } catch (ignored) { reason = ""; }
      if (xhr.status === 409 || xhr.status === 400) announceError("Not claimed. " + reason);
    }
    redrawTable();
  });

  // --- selecting rows for a bulk decision -------------------------------------------------------------

  // The journeys ticked are kept across the table's redraws (selection.js): a poll must not untick what the user
  // chose.
  var selection = window.MintSelection
    ? window.MintSelection.attach({ form: document.getElementById("bulk-select"), region: "inbox-table", key: "inbox" })
    : null;

  // --- the keys --------------------------------------------------------------------------------------

  function typing(target) {
    return Boolean(target && target.closest && target.closest("input:not([type=checkbox]), textarea, select, [contenteditable]"));
  }

  function claim(row) {
    var form = row && row.querySelector("form[data-claim]");
    if (!form) return;
    var button = form.querySelector("button[type=submit]");
    if (button) button.click();
  }

  function openKeys() {
    if (keys && !keys.open) keys.showModal();
  }

  // The modal dialog keeps the rest of the page out of reach; Tab past its last control comes back to its first
  // (and Shift+Tab the other way) instead of leaving for the browser's own controls.
  function cycleFocus(event, box) {
    var items = Array.prototype.filter.call(
      box.querySelectorAll("a[href], button:not([disabled]), textarea, input:not([type=hidden]), select, summary, [tabindex='0']"),
      function (item) { return item.offsetParent !== null || item === document.activeElement; });
    if (!items.length) return;
    var first = items[0], last = items[items.length - 1];
    if (event.shiftKey && (document.activeElement === first || !box.contains(document.activeElement))) {
      last.focus();
      event.preventDefault();
    } else if (!event.shiftKey && (document.activeElement === last || !box.contains(document.activeElement))) {
      first.focus();
      event.preventDefault();
    }
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "Tab") {
      if (dialog.open) cycleFocus(event, dialog);
      else if (keys && keys.open) cycleFocus(event, keys);
      return;
    }
    if (event.defaultPrevented || event.altKey) return;
    // Ctrl+Enter (Cmd+Enter) in the reason after "r": reject.
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter" && event.target.matches
        && event.target.matches("#decision-panel textarea")) {
      var reject = rejecting && event.target.form && event.target.form.querySelector("button[data-decision=reject]");
      if (reject) { event.preventDefault(); reject.click(); }
      return;
    }
    if (event.ctrlKey || event.metaKey || typing(event.target)) return;
    if (keys && keys.open) return;
    var inPanel = dialog.open;
    switch (event.key) {
      case "j":
        if (inPanel) return;
        move(1);
        break;
      case "k":
        if (inPanel) return;
        move(-1);
        break;
      case "o":
        if (inPanel) return;
        openRow(currentRow() || rows()[0]);
        break;
      case "Enter":
        // On a row's own controls Enter does what they do (Decide opens the panel); elsewhere it opens the row.
        if (inPanel || !current || (event.target.closest && event.target.closest("a, button, summary"))) return;
        openRow(currentRow());
        break;
      case "a":
        if (inPanel) { intent = "approve"; focusIntent(); break; }
        openRow(currentRow() || rows()[0], "approve");
        break;
      case "r":
        if (inPanel) { intent = "reject"; focusIntent(); break; }
        openRow(currentRow() || rows()[0], "reject");
        break;
      case "c":
        if (inPanel) return;
        claim(currentRow());
        break;
      case "x":
        if (inPanel) return;
        var box = currentRow() && currentRow().querySelector("input[data-select]");
        if (!box || !selection) return;
        selection.toggle(box, !box.checked);
        break;
      case "/":
        if (inPanel) return;
        var filter = document.querySelector("#inbox-filters select, #inbox-filters input:not([type=hidden])");
        if (filter) filter.focus();
        break;
      case "?":
        if (inPanel) return;
        openKeys();
        break;
      default:
        return;
    }
    event.preventDefault();
  });

  var keysButton = document.querySelector("[data-keys-open]");
  if (keysButton) {
    keysButton.hidden = false;
    keysButton.addEventListener("click", openKeys);
  }
})();

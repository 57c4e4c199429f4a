/* Mint Portal: the few behaviours that need a script. Loaded as a file (the CSP allows no inline script),
   bound by event delegation so that regions swapped in by htmx work without re-binding. */
(function () {
  "use strict";

  function flash(text, level) {
    var area = document.getElementById("flash");
    if (!area) return;
    var item = document.createElement("div");
    item.className = "flash flash-" + (level || "info");
    item.setAttribute("role", "status");
    var span = document.createElement("span");
    span.textContent = text;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "flash-close";
    close.setAttribute("data-dismiss", "");
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    item.appendChild(span);
    item.appendChild(close);
    area.appendChild(item);
  }

  function confirmCopied(button) {
    var label = button.textContent;
    button.textContent = "Copied";
    button.classList.add("copied");
    window.setTimeout(function () {
      button.textContent = label;
      button.classList.remove("copied");
    }, 1600);
  }

  function copyFrom(button) {
    var field = document.querySelector(button.getAttribute("data-copy"));
    if (!field) return;
    var text = field.value !== undefined ? field.value : field.textContent;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { confirmCopied(button); }, function () {
        field.select();
      });
    } else {
      field.focus();
      field.select();
      if (document.execCommand("copy")) confirmCopied(button);
    }
  }

  document.addEventListener("click", function (event) {
    var copy = event.target.closest("[data-copy]");
    if (copy) {
      event.preventDefault();
      copyFrom(copy);
      return;
    }
    var dismiss = event.target.closest("[data-dismiss]");
    if (dismiss && dismiss.closest(".flash")) dismiss.closest(".flash").remove();
  });

  function updateCounter(textarea) {
    var counter = document.querySelector('[data-counter-for="' + textarea.id + '"]');
    if (!counter) return;
    var max = parseInt(textarea.getAttribute("data-counter"), 10);
    var used = textarea.value.length;
    counter.textContent = used + " / " + max;
    counter.classList.toggle("near", used > max * 0.9 && used <= max);
    counter.classList.toggle("over", used > max);
  }

  function initCounters(root) {
    if (!root.querySelectorAll) return;
    root.querySelectorAll("textarea[data-counter]").forEach(updateCounter);
  }

  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("textarea[data-counter]")) updateCounter(event.target);
  });
  document.addEventListener("DOMContentLoaded", function () { initCounters(document); });
  document.addEventListener("htmx:load", function (event) { initCounters(event.detail.elt); });

  // Messages stay in the page's flow until dismissed (nothing vanishes while being read); a new confirmation
  // replaces the older ones, errors stay.
  document.addEventListener("htmx:load", function (event) {
    var item = event.detail.elt;
    if (!item.classList || !item.classList.contains("flash") || !item.parentElement) return;
    item.parentElement.querySelectorAll(".flash-success, .flash-info").forEach(function (older) {
      if (older !== item) older.remove();
    });
  });

  // --- phones: the menu button, tables as cards ------------------------------------------------------
  document.documentElement.classList.add("js");

  function setMenu(open) {
    var toggle = document.querySelector("[data-menu-toggle]");
    var menu = document.getElementById("topbar-menu");
    if (!toggle || !menu) return;
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    menu.classList.toggle("open", open);
  }

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-menu-toggle]");
    if (toggle) setMenu(toggle.getAttribute("aria-expanded") !== "true");
  });

  // Cards show each cell's column name: copied from the table's header, so templates keep one table.
  function labelCells(root) {
    if (!root.querySelectorAll) return;
    var tables = root.matches && root.matches("table.data") ? [root] : root.querySelectorAll("table.data");
    tables.forEach(function (table) {
      var names = [];
      table.querySelectorAll("thead th").forEach(function (th) {
        for (var i = 0; i < (th.colSpan || 1); i++) names.push(th.textContent.trim());
      });
      table.querySelectorAll("tbody tr").forEach(function (row) {
        var column = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          if (!cell.hasAttribute("data-label") && cell.colSpan === 1) cell.setAttribute("data-label", names[column] || "");
          column += cell.colSpan || 1;
        });
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { labelCells(document); });
  document.addEventListener("htmx:load", function (event) { labelCells(event.detail.elt); });

  // Focus follows what an htmx swap opens (a form with errors, an outcome). The inbox's decision dialog and its
  // focus are static/js/inbox.js's.

  function focusInside(panel) {
    var target = panel.querySelector(".has-error textarea, .has-error input, .has-error select")
      || panel.querySelector(".notice, [role=alert]")
      || panel.querySelector("[data-focus-first], textarea, input:not([type=hidden]):not([type=search])")
      || panel.querySelector("h2, h3");
    if (!target) return;
    if (!target.matches("a, button, input, select, textarea")) target.setAttribute("tabindex", "-1");
    target.focus({ preventScroll: false });
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    var panel = event.detail.elt;
    if (!panel || !panel.matches || !panel.matches("[data-focus-on-swap]")) {
      panel = event.detail.target && document.getElementById(event.detail.target.id);
      if (!panel || !panel.matches || !panel.matches("[data-focus-on-swap]")) return;
    }
    focusInside(panel);
  });

  // A swap that removes the focused control (Save or Cancel of a note being edited) returns focus to the same
  // place in the new content instead of dropping it to the start of the page.
  // A refresh (a poll) puts focus back on the same control when it is still there, and nowhere else.
  var focusHome = null;
  var FOCUSABLE = "a[href], button, textarea, input:not([type=hidden]), select";
  document.addEventListener("htmx:beforeSwap", function (event) {
    var active = document.activeElement;
    var home = active && active !== document.body ? active.closest("[id]") : null;
    var trigger = event.detail.requestConfig && event.detail.requestConfig.triggeringEvent;
    focusHome = home ? {
      id: home.id, tag: active.tagName, href: active.getAttribute("href"), name: active.getAttribute("name"),
      text: active.textContent.trim(), byUser: Boolean(trigger && trigger.isTrusted),
    } : null;
  });
  document.addEventListener("htmx:afterSettle", function () {
    var was = focusHome;
    if (!was || (document.activeElement && document.activeElement !== document.body)) return;
    var home = document.getElementById(was.id);
    if (!home) return;
    var same = Array.prototype.find.call(home.querySelectorAll(FOCUSABLE), function (item) {
      return item.tagName === was.tag && item.getAttribute("href") === was.href
        && item.getAttribute("name") === was.name && item.textContent.trim() === was.text;
    });
    var target = same || (was.byUser ? home.querySelector(FOCUSABLE) : null);
    if (target) target.focus();
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var toggle = document.querySelector("[data-menu-toggle][aria-expanded=true]");
    if (toggle) { setMenu(false); toggle.focus(); }
  });

  // A lifetime's own length and unit show only when "Another length" is chosen.
  function syncLifetimes(root) {
    if (!root.querySelectorAll) return;
    root.querySelectorAll("[data-lifetime-choice]").forEach(function (choice) {
      var custom = choice.parentElement.querySelector("[data-lifetime-custom]");
      if (custom) custom.hidden = choice.value !== "custom";
    });
  }
  document.addEventListener("DOMContentLoaded", function () { syncLifetimes(document); });
  document.addEventListener("htmx:load", function (event) { syncLifetimes(event.detail.elt); });
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("[data-lifetime-choice]")) {
      syncLifetimes(event.target.parentElement);
      if (event.target.value === "custom") event.target.parentElement.querySelector(".lifetime-amount").focus();
    }
  });

  // A chart too wide for a phone opens on its latest days, at its right end.
  function showLatest(root) {
    if (!root.querySelectorAll) return;
    root.querySelectorAll(".chart-scroll").forEach(function (box) { box.scrollLeft = box.scrollWidth; });
  }
  document.addEventListener("DOMContentLoaded", function () { showLatest(document); });
  document.addEventListener("htmx:load", function (event) { showLatest(event.detail.elt); });

  // A theme that follows the system offers the opposite of what the system shows now.
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.querySelector('.theme-toggle[data-theme-current="system"]');
    if (button && window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches) {
      button.value = "light";
      button.textContent = "Light mode";
    }
  });

  // Only what the user does keeps a session alive (mintportal/security.py): a request triggered by a real
  // click, key or submit says so; polls, load triggers and server-sent events carry no trusted event.
  document.addEventListener("htmx:configRequest", function (event) {
    var trigger = event.detail.triggeringEvent;
    if (trigger && trigger.isTrusted) event.detail.headers["X-Portal-Activity"] = "user";
  });

  // A write is sent once: while a form's request is on its way, its submit buttons are disabled, so a double
  // click cannot send it twice (the server still refuses a second continue or decision; this spares the noise).
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    if (!form || form.tagName !== "FORM" || (form.getAttribute("method") || "").toLowerCase() !== "post") return;
    form.querySelectorAll("button[type=submit], button:not([type])").forEach(function (button) {
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
    });
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (!form || form.tagName !== "FORM" || !document.body.contains(form)) return;
    form.querySelectorAll("button[aria-busy=true]").forEach(function (button) {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    });
  });

  // Requests htmx does not swap (403, 404, 5xx) or cannot send still tell the user what happened.
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var reason = "";
    try {
      var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
      var lede = doc.querySelector(".lede");
      reason = lede ? lede.textContent.trim() : "";
    } catch (ignored) { reason = ""; }
    flash("That did not work (" + xhr.status + "). " + reason, "error");
  });
  document.addEventListener("htmx:sendError", function () {
    flash("The portal cannot be reached. Check your connection; the page will catch up when it is back.", "error");
  });

  // --- times: the browser's zone, relative or absolute ------------------------------------------------
  // The server draws every time in the user's zone (accounts/preferences.py): the one they chose, else the one this
  // browser reports through the "tz" cookie. A browser whose zone the portal has not heard of yet is drawn in the
  // portal's zone once; the page is read again in the browser's own so that later regions never mix two zones.
  (function rememberZone() {
    var zone = "";
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (ignored) { zone = ""; }
    // IANA names need no escaping in a cookie; anything else is not a zone the server would accept.
    if (!/^[A-Za-z0-9_+\-\/]{1,64}$/.test(zone)) return;
    var wanted = "tz=" + zone;
    var had = document.cookie.split("; ").indexOf(wanted) !== -1;
    if (had) return;
    document.cookie = wanted + "; path=/; max-age=31536000; samesite=lax" + (location.protocol === "https:" ? "; secure" : "");
    // Only a signed-in page says which zone it was drawn in (the sign-in page, where most visits begin, shows no
    // times); not on a page that answers a form (reading it again would send the form again).
    var root = document.body;
    var sent = document.cookie.split("; ").indexOf(wanted) !== -1;
    if (sent && root.getAttribute("data-time-zone-source") === "default" && root.getAttribute("data-time-zone") !== zone
        && !document.querySelector(".has-error, .form-errors")) location.reload();
  })();

  // The same words as mintportal/templatetags/portal.py's _span and ago.
  function span(seconds) {
    seconds = Math.floor(Math.max(seconds, 0));
    if (seconds < 60) return seconds + " s";
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + " min";
    var hours = Math.floor(minutes / 60);
    minutes = minutes % 60;
    if (hours < 48) return minutes ? hours + " h " + minutes + " min" : hours + " h";
    var days = Math.floor(hours / 24);
    hours = hours % 24;
    return hours ? days + " d " + hours + " h" : days + " d";
  }

  function relativeTo(iso) {
    var delta = (Date.now() - Date.parse(iso)) / 1000;
    return delta >= 0 ? span(delta) + " ago" : "in " + span(-delta);
  }

  function timeDisplay() {
    return document.body.getAttribute("data-time-display") === "relative" ? "relative" : "absolute";
  }

  // A time drawn by the ``when`` filter carries both forms: the one shown, and in its title the exact time and zone
  // (followed by the relative form when the absolute one is shown).
  function drawTimes(root, display) {
    if (!root.querySelectorAll) return;
    var times = root.matches && root.matches("time[data-when]") ? [root] : root.querySelectorAll("time[data-when]");
    Array.prototype.forEach.call(times, function (time) {
      if (isNaN(Date.parse(time.getAttribute("datetime")))) return;
      var relative = relativeTo(time.getAttribute("datetime"));
      var zone = time.getAttribute("data-zone");
      var exact = time.getAttribute("data-full") + " (" + zone + ")";
      time.textContent = display === "relative" ? relative : time.getAttribute("data-absolute");
      time.title = display === "relative" ? exact : exact + " · " + relative;
    });
  }
  // Regions swapped in later follow the page's display, whatever a shared cache drew them in.
  document.addEventListener("htmx:load", function (event) { drawTimes(event.detail.elt, timeDisplay()); });
  // "5 min ago" (shown, or in an absolute time's title) keeps telling the truth while the page stays open.
  window.setInterval(function () {
    if (!document.hidden) drawTimes(document, timeDisplay());
  }, 30000);

  document.addEventListener("submit", function (event) {
    var form = event.target.closest && event.target.closest("[data-time-form]");
    if (!form || !window.fetch) return;
    event.preventDefault();
    var next = form.querySelector("[data-time-next]");
    var button = form.querySelector("[data-time-toggle]");
    var display = next.value === "relative" ? "relative" : "absolute";
    var body = new FormData(form);
    document.body.setAttribute("data-time-display", display);
    drawTimes(document, display);
    button.setAttribute("aria-pressed", display === "relative" ? "true" : "false");
    next.value = display === "relative" ? "absolute" : "relative";
    fetch(form.action, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-Portal-Toggle": "1", "X-Portal-Activity": "user" },
    }).then(function (response) {
      if (!response.ok) flash("The portal could not remember how you want times shown (" + response.status + ").", "error");
    }, function () {
      flash("The portal could not remember how you want times shown: it cannot be reached.", "error");
    });
  });

  // Regions marked data-pause-hidden (the dashboard) do not poll while the tab is hidden, and catch up as soon as
  // it shows again.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (document.hidden && elt && elt.hasAttribute && elt.hasAttribute("data-pause-hidden")) event.preventDefault();
  });
  document.addEventListener("visibilitychange", function () {
    if (document.hidden || !window.htmx) return;
    document.querySelectorAll("[data-pause-hidden]").forEach(function (region) { window.htmx.trigger(region, "portal:visible"); });
  });

  // A refresh keeps a chart where the user scrolled it (it opens at its latest days otherwise).
  var chartScroll = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var box = event.detail.target && event.detail.target.querySelector && event.detail.target.querySelector(".chart-scroll");
    chartScroll = box && box.scrollLeft + box.clientWidth < box.scrollWidth - 1 ? box.scrollLeft : null;
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (chartScroll === null) return;
    var box = document.querySelector(".chart-scroll");
    if (box) box.scrollLeft = chartScroll;
    chartScroll = null;
  });
})();

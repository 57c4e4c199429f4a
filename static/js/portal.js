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

  // Confirmations fade after a while; errors stay until dismissed.
  function fadeLater(root) {
    if (!root.querySelectorAll) return;
    root.querySelectorAll(".flash-success, .flash-info").forEach(function (item) {
      if (item.hasAttribute("data-fading")) return;
      item.setAttribute("data-fading", "");
      window.setTimeout(function () { item.remove(); }, 8000);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { fadeLater(document); });
  document.addEventListener("htmx:load", function () { fadeLater(document); });

  // Only what the user does keeps a session alive (mintportal/security.py): a request triggered by a real
  // click, key or submit says so; polls, load triggers and server-sent events carry no trusted event.
  document.addEventListener("htmx:configRequest", function (event) {
    var trigger = event.detail.triggeringEvent;
    if (trigger && trigger.isTrusted) event.detail.headers["X-Portal-Activity"] = "user";
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
})();

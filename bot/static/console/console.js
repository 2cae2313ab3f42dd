// Staff console: small enhancements only; every page works without this script.
(function () {
  "use strict";

  // Human handoff: show the citizen's new messages as they arrive.
  var live = document.getElementById("live-transcript");
  if (live && window.fetch) {
    var list = live.querySelector("ol.transcript");
    var url = live.getAttribute("data-events-url");
    var lastId = parseInt(live.getAttribute("data-last-id") || "0", 10);
    var statusEl = document.getElementById("handoff-status");

    var render = function (turn) {
      var li = document.createElement("li");
      li.id = "turn-" + turn.id;
      if (turn.kind === "marker") {
        li.className = "marker";
        li.textContent = turn.at + " · " + turn.text;
        return li;
      }
      li.className = "turn " + (turn.kind === "user" ? "user" : "bot" + (turn.officer ? " officer" : ""));
      var meta = document.createElement("div");
      meta.className = "meta";
      var who = document.createElement("strong");
      who.textContent = turn.kind === "user" ? "信访人" : (turn.officer ? "工作人员 " + turn.officer : "智能助手");
      var when = document.createElement("span");
      when.textContent = turn.at;
      meta.appendChild(who);
      meta.appendChild(when);
      var text = document.createElement("div");
      text.className = "text";
      text.textContent = turn.text;
      li.appendChild(meta);
      li.appendChild(text);
      return li;
    };

    var poll = function () {
      fetch(url + "?after=" + lastId, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (body) {
          if (!body) { return; }
          (body.turns || []).forEach(function (turn) {
            if (!document.getElementById("turn-" + turn.id)) {
              var empty = list.querySelector("li.marker:only-child");
              if (empty && !empty.id) { empty.remove(); }
              list.appendChild(render(turn));
              list.scrollTop = list.scrollHeight;
            }
          });
          lastId = body.last_id || lastId;
          if (statusEl && body.status_label) { statusEl.textContent = body.status_label; }
        })
        .catch(function () { /* try again at the next tick */ });
    };
    list.scrollTop = list.scrollHeight;
    window.setInterval(poll, 3000);
  }

  // Transcripts open scrolled to the latest turn (or to the turn in the URL).
  document.querySelectorAll("ol.transcript").forEach(function (ol) {
    if (!window.location.hash) { ol.scrollTop = ol.scrollHeight; }
  });
})();

/*
 * The citizen chat page: a small widget on Rasa's socket.io channel (connectors/webchat.py).
 *
 * - The page's configuration comes from <script id="chat-config" type="application/json">.
 * - The conversation (session id and the messages shown) is kept in sessionStorage: a reload
 *   continues the same conversation, closing the tab or "结束对话" forgets it (a shared
 *   computer keeps nothing of the citizen's personal data).
 * - Every text is inserted as text (never as HTML); line breaks are kept by CSS.
 * - Buttons of the assistant's latest message are shown as buttons; pressing one sends its
 *   payload and shows its title as the citizen's message.
 */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("chat-config").textContent);
  var storage = window.sessionStorage;

  var el = {
    notice: document.getElementById("notice"),
    start: document.getElementById("start-chat"),
    chat: document.getElementById("chat"),
    status: document.getElementById("status"),
    messages: document.getElementById("messages"),
    typing: document.getElementById("typing"),
    form: document.getElementById("composer"),
    input: document.getElementById("message"),
    send: document.getElementById("send"),
    end: document.getElementById("end-chat"),
  };

  var state = load();
  var socket = null;
  var confirmed = false;
  var outbox = [];
  var typingTimer = null;

  // --- state ----------------------------------------------------------------------------
  function load() {
    try {
      var saved = JSON.parse(storage.getItem(config.storageKey) || "null");
      if (saved && Array.isArray(saved.messages)) {
        return saved;
      }
    } catch (e) {
      /* unreadable: start afresh */
    }
    return { acknowledged: false, sessionId: null, greeted: false, messages: [] };
  }

  function save() {
    try {
      storage.setItem(config.storageKey, JSON.stringify(state));
    } catch (e) {
      /* storage full or disabled: the conversation still works, without reload */
    }
  }

  // --- rendering --------------------------------------------------------------------------
  function setStatus(text, kind) {
    el.status.textContent = text;
    el.status.className = "chat__status" + (kind ? " chat__status--" + kind : "");
  }

  function clearButtons() {
    var groups = el.messages.querySelectorAll(".quick-replies");
    for (var i = 0; i < groups.length; i++) {
      groups[i].parentNode.removeChild(groups[i]);
    }
  }

  function renderButtons(item, buttons) {
    var group = document.createElement("div");
    group.className = "quick-replies";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "可选回复");
    buttons.forEach(function (button) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "quick-reply";
      b.textContent = button.title;
      b.addEventListener("click", function () {
        sendMessage(button.payload, button.title);
      });
      group.appendChild(b);
    });
    item.appendChild(group);
  }

  function renderMessage(message, withButtons) {
    var item = document.createElement("li");
    item.className = "message message--" + message.from;
    var label = document.createElement("span");
    label.className = "visually-hidden";
    label.textContent = message.from === "bot" ? "助手：" : "我：";
    var bubble = document.createElement("div");
    bubble.className = "message__bubble";
    bubble.textContent = message.text;
    item.appendChild(label);
    item.appendChild(bubble);
    if (withButtons && message.buttons && message.buttons.length) {
      renderButtons(item, message.buttons);
    }
    el.messages.appendChild(item);
    item.scrollIntoView({ block: "end" });
  }

  function renderAll() {
    el.messages.textContent = "";
    var last = state.messages.length - 1;
    state.messages.forEach(function (message, index) {
      renderMessage(message, index === last && message.from === "bot");
    });
  }

  function showTyping(on) {
    el.typing.hidden = !on;
    if (typingTimer) {
      clearTimeout(typingTimer);
      typingTimer = null;
    }
    if (on) {
      typingTimer = setTimeout(function () { el.typing.hidden = true; }, 30000);
    }
  }

  function addMessage(message) {
    clearButtons();
    state.messages.push(message);
    save();
    renderMessage(message, message.from === "bot");
  }

  // --- talking to the assistant -------------------------------------------------------------
  function emit(payload) {
    if (socket && confirmed) {
      socket.emit("user_uttered", { message: payload, session_id: state.sessionId });
    } else {
      outbox.push(payload);
    }
  }

  function sendMessage(payload, shown) {
    var text = (shown || payload || "").trim();
    if (!text) {
      return;
    }
    addMessage({ from: "user", text: text });
    emit(payload);
    showTyping(true);
  }

  function onBotMessage(data) {
    if (!data || typeof data !== "object") {
      return;
    }
    var text = typeof data.text === "string" ? data.text : "";
    if (!text && data.attachment && data.attachment.payload && data.attachment.payload.src) {
      text = String(data.attachment.payload.src);
    }
    var buttons = (data.quick_replies || data.buttons || [])
      .filter(function (b) { return b && b.title && b.payload; })
      .map(function (b) { return { title: String(b.title), payload: String(b.payload) }; });
    if (!text && !buttons.length) {
      return;
    }
    showTyping(false);
    addMessage({ from: "bot", text: text, buttons: buttons });
  }

  function onSessionConfirm(sessionId) {
    if (state.sessionId && state.sessionId !== sessionId) {
      // The server did not continue the stored conversation: start a clean one.
      state.messages = [];
      state.greeted = false;
      renderAll();
    }
    state.sessionId = sessionId;
    confirmed = true;
    setStatus("已连接，请直接输入您的问题。", "ok");
    if (!state.greeted) {
      state.greeted = true;
      socket.emit("user_uttered", { message: config.initialPayload, session_id: sessionId });
      showTyping(true);
    }
    save();
    while (outbox.length) {
      socket.emit("user_uttered", { message: outbox.shift(), session_id: sessionId });
    }
  }

  function connect() {
    setStatus("正在连接…", "");
    socket = window.io(config.socketUrl, {
      path: config.socketPath,
      transports: ["polling", "websocket"],
      reconnection: true,
      reconnectionDelay: 1000,
      reconnectionDelayMax: 10000,
    });
    socket.on("connect", function () {
      confirmed = false;
      socket.emit("session_request", { session_id: state.sessionId });
    });
    socket.on("session_confirm", onSessionConfirm);
    socket.on("bot_uttered", onBotMessage);
    socket.on("disconnect", function () {
      confirmed = false;
      setStatus("连接已断开，正在重新连接…已填写的信息不会丢失。", "warn");
    });
    socket.on("connect_error", function () {
      setStatus("暂时无法连接，正在重试…也可以拨打信访热线咨询。", "warn");
    });
  }

  // --- page -----------------------------------------------------------------------------------
  function openChat() {
    state.acknowledged = true;
    save();
    el.notice.hidden = true;
    el.chat.hidden = false;
    renderAll();
    connect();
    el.input.focus();
  }

  el.start.addEventListener("click", openChat);

  el.form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = el.input.value.trim();
    if (!text) {
      return;
    }
    el.input.value = "";
    sendMessage(text, text);
    el.input.focus();
  });

  el.input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      el.form.requestSubmit ? el.form.requestSubmit() : el.send.click();
    }
  });

  el.end.addEventListener("click", function () {
    if (!window.confirm("确定结束对话并清除本页记录吗？已提交的信访事项不受影响。")) {
      return;
    }
    storage.removeItem(config.storageKey);
    if (socket) {
      socket.disconnect();
    }
    window.location.reload();
  });

  if (state.acknowledged) {
    openChat();
  }
})();

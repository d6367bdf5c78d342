// Atelier fine-tuning — step 8 chat page. Talks only to the proxy; never holds a key.
"use strict";

(function () {
  const MAX_HISTORY = 20;
  const TIMEOUT_MS = 90000; // a sleeping free host can take ~1 min to wake up
  const HEALTH_EVERY_MS = 5000; // the status dot says what is true now, not at page load

  const meta = document.querySelector('meta[name="atelier-proxy-url"]');
  const configured = (meta && meta.content.trim()) || "";
  // Relative URLs by default: works at "/", behind jupyter-server-proxy ("/user/x/proxy/8787/")
  // and in Colab's port window. A configured proxy (GitHub Pages) is an absolute base.
  const base = configured ? configured.replace(/\/*$/, "/") : document.baseURI;
  const chatUrl = new URL("api/chat", base).toString();
  const healthUrl = new URL("healthz", base).toString();
  const textUrl = new URL("api/page-text", base).toString();

  // The page's texts are French; the proxy gives their translation in its language
  // (ATELIER_LANG, from the kit's catalogs: GET api/page-text). Until then, or without the
  // proxy, French. t(frenchText, {name: value}) also fills the {name} placeholders.
  let texts = {};
  function t(french, values) {
    let text = Object.prototype.hasOwnProperty.call(texts, french) && texts[french] ? texts[french] : french;
    for (const name in values || {}) text = text.split("{" + name + "}").join(String(values[name]));
    return text;
  }
  const norm = (text) => text.replace(/\s+/g, " ").trim();

  async function loadTexts() {
    try {
      const res = await fetch(textUrl, { cache: "no-store" });
      const data = await res.json();
      if (!res.ok || !data || typeof data.texts !== "object" || data.texts === null) return;
      texts = data.texts;
      if (typeof data.lang === "string" && data.lang) document.documentElement.lang = data.lang;
      document.querySelectorAll("[data-t]").forEach((el) => {
        el.textContent = t(norm(el.textContent));
      });
      document.querySelectorAll("[data-t-attr]").forEach((el) => {
        for (const name of el.dataset.tAttr.split(" ")) {
          const value = el.getAttribute(name);
          if (value) el.setAttribute(name, t(norm(value)));
        }
      });
    } catch (e) {
      // no proxy (yet): the page stays in French
    }
  }

  const proxyLabel = () => configured || t("le proxy qui sert cette page");

  const log = document.getElementById("log");
  const form = document.getElementById("form");
  const input = document.getElementById("input");
  const send = document.getElementById("send");
  const reset = document.getElementById("reset");
  const status = document.getElementById("status");

  let history = [];
  let busy = false;

  function setStatus(kind, text) {
    status.className = "status status-" + kind;
    status.textContent = text;
  }

  function add(kind, text, extra) {
    const hint = log.querySelector(".hint");
    if (hint) hint.remove();
    const bubble = document.createElement("div");
    bubble.className = "bubble bubble-" + kind + (extra ? " bubble-" + extra : "");
    bubble.textContent = text; // textContent: what the model says is never run as HTML
    log.appendChild(bubble);
    log.scrollTop = log.scrollHeight;
    return bubble;
  }

  function unreachable() {
    if (!configured) {
      // served by the proxy itself (notebook 08, Render): only the proxy can be down
      return t(
        "Impossible de joindre le proxy ({proxy}). Il est peut-être arrêté : relance la cellule " +
        "du notebook 08 qui le démarre (webdemo.start), ou ton service Render.",
        { proxy: proxyLabel() }
      );
    }
    return t(
      "Impossible de joindre le proxy ({proxy}). Il est peut-être arrêté : relance ton service " +
      "Render. Vérifie aussi l'adresse du proxy écrite dans index.html, et que l'adresse de " +
      "cette page figure dans la liste des pages autorisées du proxy (la variable " +
      "d'environnement ATELIER_PROXY_ALLOWED_ORIGINS du service Render).",
      { proxy: proxyLabel() }
    );
  }

  function explain(res, data) {
    const serverMessage = data && data.error && typeof data.error.message === "string" ? data.error.message : "";
    if (res.status === 429) {
      const wait = parseInt(res.headers.get("Retry-After") || "", 10);
      const when = Number.isFinite(wait) ? t("Réessaie dans {wait} s.", { wait: wait }) : t("Réessaie dans un moment.");
      return t("⏳ Doucement !") + " " + (serverMessage || t("Trop de messages d'un coup.") + " " + when);
    }
    if (res.status === 403) return t("⛔ Le proxy refuse cette page.") + " " + serverMessage;
    if (res.status === 400 || res.status === 413 || res.status === 415) {
      return t("✋ Le proxy refuse ce message.") + " " + serverMessage;
    }
    if (res.status === 504) return "⌛ " + (serverMessage || t("Le modèle met trop de temps à répondre."));
    if (res.status >= 500) {
      return "⚠️ " + (serverMessage || t("Le proxy ne répond pas correctement (HTTP {status}). Il est peut-être arrêté.", { status: res.status }));
    }
    return t("⚠️ Réponse inattendue du proxy (HTTP {status}).", { status: res.status }) + " " + serverMessage;
  }

  async function checkHealth() {
    try {
      const res = await fetch(healthUrl, { cache: "no-store" });
      const data = await res.json();
      if (!res.ok || data.status !== "ok") throw new Error("bad health");
      if (data.limits && data.limits.max_chars) input.maxLength = data.limits.max_chars;
      if (!data.model_configured || !data.key_configured) {
        setStatus("warn", t("Proxy joignable, mais pas encore configuré"));
      } else {
        setStatus("ok", t("Proxy joignable"));
      }
    } catch (e) {
      setStatus("down", t("Proxy injoignable"));
    }
  }

  async function ask(text) {
    history.push({ role: "user", content: text });
    history = history.slice(-MAX_HISTORY);
    while (history.length && history[0].role !== "user") history.shift();
    add("user", text);
    const waiting = add("assistant", "…", "pending");
    busy = true;
    send.disabled = true;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
    try {
      let res;
      try {
        res = await fetch(chatUrl, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ messages: history }),
          signal: controller.signal,
          cache: "no-store",
        });
      } catch (e) {
        throw new Error(e && e.name === "AbortError"
          ? t("⌛ Pas de réponse du proxy après {seconds} s. Réessaie.", { seconds: TIMEOUT_MS / 1000 })
          : "🔌 " + unreachable());
      }
      let data = null;
      try {
        data = await res.json();
      } catch (e) {
        data = null;
      }
      if (!res.ok) {
        history.pop(); // the message was not answered: do not keep it
        setStatus(res.status >= 500 ? "warn" : "ok", res.status >= 500 ? t("Proxy en difficulté") : t("Proxy joignable"));
        waiting.remove();
        add("error", explain(res, data));
        if (!input.value) input.value = text; // ready to send again
        return;
      }
      const reply = data && data.message && typeof data.message.content === "string" ? data.message.content : "";
      history.push({ role: "assistant", content: reply });
      waiting.remove();
      add("assistant", reply || t("(réponse vide)"));
      if (data.truncated) add("note", t("✂️ Réponse coupée : le proxy limite sa longueur."));
      setStatus("ok", t("Proxy joignable"));
    } catch (err) {
      history.pop();
      waiting.remove();
      add("error", err.message);
      if (!input.value) input.value = text;
      setStatus("down", t("Proxy injoignable"));
    } finally {
      clearTimeout(timer);
      busy = false;
      send.disabled = false;
      input.focus();
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text || busy) return;
    input.value = "";
    ask(text);
  });

  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  reset.addEventListener("click", () => {
    history = [];
    log.replaceChildren();
    const hint = document.createElement("p");
    hint.className = "hint";
    hint.textContent = t("Conversation effacée. Écris un nouveau message.");
    log.appendChild(hint);
    input.focus();
  });

  loadTexts().finally(checkHealth);
  setInterval(() => {
    if (!busy && !document.hidden) checkHealth();
  }, HEALTH_EVERY_MS);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) checkHealth();
  });
  input.focus();
})();

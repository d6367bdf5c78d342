// The teacher's page: ask for the teacher's key once (kept in this tab only), then refresh
// the class overview every 3 s. Written in French; the class server gives the texts'
// translation in the request's language (GET /classe/api/page-text: the class server's
// ATELIER_LANG, else the browser's Accept-Language), French until then or without it.
"use strict";
const KEY = "atelier-cle-enseignant";
const $ = (id) => document.getElementById(id);

// t(frenchText, {name: value}): the text in the page's language, its {name} placeholders filled.
let pageTexts = {};
function t(french, values) {
  let text = Object.prototype.hasOwnProperty.call(pageTexts, french) && pageTexts[french] ? pageTexts[french] : french;
  for (const name in values || {}) text = text.split("{" + name + "}").join(String(values[name]));
  return text;
}
const numberLocale = () => (document.documentElement.lang === "fr" ? "fr-FR" : document.documentElement.lang);

async function loadTexts() {
  try {
    const answer = await fetch("/classe/api/page-text", { cache: "no-store" });
    const data = await answer.json();
    if (!answer.ok || !data || typeof data.texts !== "object" || data.texts === null) return;
    pageTexts = data.texts;
    if (typeof data.lang === "string" && data.lang) document.documentElement.lang = data.lang;
    document.querySelectorAll("[data-t]").forEach((el) => {
      el.textContent = t(el.textContent.replace(/\s+/g, " ").trim());
    });
  } catch (err) {
    // the page stays in French
  }
}
// evaluations.js waits for the texts too
window.atelierTexts = loadTexts();

function key() { return sessionStorage.getItem(KEY) || ""; }

async function api(path, options = {}) {
  const answer = await fetch(path, {
    ...options,
    headers: { Authorization: "Bearer " + key(), ...(options.headers || {}) },
  });
  const body = await answer.json().catch(() => ({}));
  // Errors come in the API's envelope: {"error": {"message", "type", "param", "code"}}.
  const error = body.error && (body.error.message || body.error);
  if (!answer.ok) {
    const problem = new Error(error || t("Erreur {status}", { status: answer.status }));
    problem.code = body.error && body.error.code;
    throw problem;
  }
  return body;
}

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function size(bytes) {
  return t("{size} Mo", { size: (bytes / 1024 / 1024).toLocaleString(numberLocale(), { maximumFractionDigits: 1 }) });
}

function eta(seconds) {
  if (!seconds) return "";
  const left = Math.max(0, Math.round(seconds - Date.now() / 1000));
  return left ? t(" — fin dans ~{seconds} s", { seconds: left }) : "";
}

function render(data) {
  const rows = $("eleves");
  rows.replaceChildren();
  for (const s of data.students) {
    const tr = document.createElement("tr");
    tr.dataset.eleve = s.name;
    tr.append(cell(s.display || s.name));
    tr.append(cell(s.dataset ? `✅ ${s.dataset}` : "—"));
    const job = s.job;
    tr.append(cell(job ? t(job.status_fr) + (job.error ? ` (${job.error})` : "") : "—",
                   job ? "etat-" + job.status : ""));
    tr.append(cell(job && job.loss !== null ? job.loss.toFixed(2) : ""));
    tr.append(s.coucou === null ? cell("") : s.coucou ? cell(t("✅ oui"), "ok") : cell(t("non"), "non"));
    tr.append(cell(s.storage ? t("{size} · {files} fichier(s)", { size: size(s.storage.bytes), files: s.storage.files }) :
                   s.broken ? t("⚠️ espace illisible (journal de la classe)") : ""));
    const actions = document.createElement("td");
    if (job && ["validating_files", "queued", "running", "paused"].includes(job.status)) {
      const button = document.createElement("button");
      button.className = "annuler";
      button.textContent = t("Annuler le job");
      button.onclick = async () => {
        if (!confirm(t("Annuler le job de {name} ?", { name: s.display || s.name }))) return;
        try {
          await api(`/classe/api/students/${encodeURIComponent(s.name)}/jobs/${job.id}/cancel`, { method: "POST" });
          refresh();
        } catch (err) { $("message").textContent = "❌ " + err.message; }
      };
      actions.append(button);
    }
    tr.append(actions);
    rows.append(tr);
  }
  const queue = $("file");
  queue.replaceChildren();
  for (const j of data.queue) {
    const li = document.createElement("li");
    li.textContent = `${j.display || j.name} — ${t(j.status_fr)}${eta(j.estimated_finish)}`;
    queue.append(li);
  }
  if (!data.queue.length) queue.append(Object.assign(document.createElement("li"), { textContent: t("Personne n'attend.") }));
  const q = data.quotas;
  $("quotas").textContent = t(
    "Quotas par élève et par jour : {jobs} jobs, {tokens} jetons d'entraînement. Stockage " +
    "par élève : {storage}, {files} fichiers. Moteur : {engine}.",
    {
      jobs: q.jobs_per_day,
      tokens: q.training_tokens_per_day.toLocaleString(numberLocale()),
      storage: size(q.storage_bytes),
      files: q.storage_files,
      engine: data.engine,
    }
  );
  const done = data.students.filter((s) => s.coucou).length;
  $("resume").textContent = t("{students} élève(s) ; {done} modèle(s) répondent « COUCOU ».", { students: data.students.length, done: done });
}

async function refresh() {
  try {
    render(await api("/classe/api/overview"));
    $("tableau").hidden = false;
    $("cle").hidden = true;
    $("message").textContent = "";
  } catch (err) {
    $("message").textContent = "❌ " + err.message;
    if (!key() || err.code === "teacher_only") { $("cle").hidden = false; $("tableau").hidden = true; }
  }
}

$("cle").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY, $("cle-champ").value.trim());
  $("cle-champ").value = "";
  refresh();
});

window.atelierTexts.then(() => { if (key()) refresh(); else $("cle").hidden = false; });
setInterval(() => { if (key()) refresh(); }, 3000);

// The teacher's page: ask for the teacher's key once (kept in this tab only), then refresh
// the class overview every 3 s. French for the teacher, English for the code.
"use strict";
const KEY = "atelier-cle-enseignant";
const $ = (id) => document.getElementById(id);

function key() { return sessionStorage.getItem(KEY) || ""; }

async function api(path, options = {}) {
  const answer = await fetch(path, {
    ...options,
    headers: { Authorization: "Bearer " + key(), ...(options.headers || {}) },
  });
  const body = await answer.json().catch(() => ({}));
  // Errors come in the API's envelope: {"error": {"message", "type", "param", "code"}}.
  const error = body.error && (body.error.message || body.error);
  if (!answer.ok) throw new Error(error || ("Erreur " + answer.status));
  return body;
}

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function size(bytes) {
  return (bytes / 1024 / 1024).toLocaleString("fr-FR", { maximumFractionDigits: 1 }) + " Mo";
}

function eta(seconds) {
  if (!seconds) return "";
  const left = Math.max(0, Math.round(seconds - Date.now() / 1000));
  return left ? ` — fin dans ~${left} s` : "";
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
    tr.append(cell(job ? job.status_fr + (job.error ? ` (${job.error})` : "") : "—",
                   job ? "etat-" + job.status : ""));
    tr.append(cell(job && job.loss !== null ? job.loss.toFixed(2) : ""));
    tr.append(s.coucou === null ? cell("") : s.coucou ? cell("✅ oui", "ok") : cell("non", "non"));
    tr.append(cell(s.storage ? `${size(s.storage.bytes)} · ${s.storage.files} fichier(s)` :
                   s.broken ? "⚠️ espace illisible (journal de la classe)" : ""));
    const actions = document.createElement("td");
    if (job && ["validating_files", "queued", "running", "paused"].includes(job.status)) {
      const button = document.createElement("button");
      button.className = "annuler";
      button.textContent = "Annuler le job";
      button.onclick = async () => {
        if (!confirm(`Annuler le job de ${s.display || s.name} ?`)) return;
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
    li.textContent = `${j.display || j.name} — ${j.status_fr}${eta(j.estimated_finish)}`;
    queue.append(li);
  }
  if (!data.queue.length) queue.append(Object.assign(document.createElement("li"), { textContent: "Personne n'attend." }));
  const q = data.quotas;
  $("quotas").textContent = `Quotas par élève et par jour : ${q.jobs_per_day} jobs, ` +
    `${q.training_tokens_per_day.toLocaleString("fr-FR")} jetons d'entraînement. ` +
    `Stockage par élève : ${size(q.storage_bytes)}, ${q.storage_files} fichiers. Moteur : ${data.engine}.`;
  const done = data.students.filter((s) => s.coucou).length;
  $("resume").textContent = `${data.students.length} élève(s) ; ${done} modèle(s) répondent « COUCOU ».`;
}

async function refresh() {
  try {
    render(await api("/classe/api/overview"));
    $("tableau").hidden = false;
    $("cle").hidden = true;
    $("message").textContent = "";
  } catch (err) {
    $("message").textContent = "❌ " + err.message;
    if (!key() || /réservée/.test(err.message)) { $("cle").hidden = false; $("tableau").hidden = true; }
  }
}

$("cle").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY, $("cle-champ").value.trim());
  $("cle-champ").value = "";
  refresh();
});

if (key()) refresh(); else $("cle").hidden = false;
setInterval(() => { if (key()) refresh(); }, 3000);

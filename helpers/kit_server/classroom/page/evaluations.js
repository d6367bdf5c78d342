// The teacher page's evaluation section (notebook 12): each student's accuracy for the three
// contenders, and a ranking to show the class — names hidden unless the teacher ticks the box.
// Same key as app.js (this tab's sessionStorage), same texts (app.js's t(), in the page's language).
"use strict";
(() => {
  const KEY = "atelier-cle-enseignant";
  const contender = (c) => ({ base: t("modèle de base"), prompt: t("base + bon prompt"), "fine-tune": t("modèle fine-tuné") })[c] || c;
  const section = document.getElementById("evaluations");
  let showNames = false;
  let last = null;

  const percent = (x) => `${Math.round(100 * x)} %`;
  const el = (tag, text, attrs = {}) => Object.assign(document.createElement(tag), { textContent: text ?? "" }, attrs);

  function table(data) {
    const t = el("table");
    t.id = "evaluations-eleves";
    const head = el("tr");
    head.append(el("th", t("Élève")), ...data.contenders.map((c) => el("th", contender(c))));
    t.append(el("thead"), el("tbody"));
    t.tHead.append(head);
    for (const s of data.students) {
      const tr = el("tr");
      tr.dataset.eleve = s.name;
      tr.append(el("td", (s.display || s.name) + (s.simulated ? t(" (simulé)") : "")));
      for (const c of data.contenders) {
        const r = s[c];
        tr.append(el("td", r ? `${percent(r.accuracy)} (${r.correct}/${r.total})` : "—", r ? { title: `${r.model} · ${r.dataset}` } : {}));
      }
      t.tBodies[0].append(tr);
    }
    return t;
  }

  function ranking(data) {
    const box = el("div");
    box.id = "classement";
    const label = el("label", t(" montrer les noms"));
    const tick = el("input", "", { type: "checkbox", checked: showNames, id: "montrer-noms" });
    tick.onchange = () => { showNames = tick.checked; render(last); };
    label.prepend(tick);
    const list = el("ol");
    for (const r of data.ranking) {
      const gain = r.gain_over_base === null ? "" : t(" ({sign}{points} points sur le modèle de base)", { sign: r.gain_over_base >= 0 ? "+" : "", points: Math.round(100 * r.gain_over_base) });
      const li = el("li", `${showNames ? (r.display || r.name) : t("Élève n° {rank}", { rank: r.rank })} — ${percent(r.accuracy)}${gain}`);
      li.value = r.rank;
      list.append(li);
    }
    if (!data.ranking.length) list.append(el("li", t("Pas encore de modèle fine-tuné évalué.")));
    box.append(el("h3", t("Classement des modèles fine-tunés (à montrer à la classe)")), label, list);
    return box;
  }

  function render(data) {
    if (!data) return;
    last = data;
    const intro = el("p", data.students.length
      ? t("Taux de réponses justes sur les questions mises de côté (dernière évaluation de chaque " +
          "candidat, notebook 12).")
      : t("Aucune évaluation reçue pour l'instant : elles arrivent quand les élèves exécutent le " +
          "notebook 12."));
    section.replaceChildren(el("h2", t("Évaluations (notebook 12)")), intro, table(data), ranking(data));
    section.hidden = false;
  }

  async function refresh() {
    const key = sessionStorage.getItem(KEY);
    if (!key) { section.hidden = true; return; }
    try {
      const answer = await fetch("/classe/api/evaluations", { headers: { Authorization: "Bearer " + key } });
      if (!answer.ok) { section.hidden = true; return; }
      render(await answer.json());
    } catch (err) { /* the overview's message already says what is wrong */ }
  }

  window.atelierTexts.then(refresh);
  setInterval(refresh, 3000);
})();

"""A booking site no adapter knows, for the generic `page` platform: a form to fill before the answer shows.

Flow on one page: choose a department (select), type a postcode (fill), tick the consent (check), press
"Voir les disponibilités" (click); the answer is drawn by script a moment later (wait_for).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from tests.sites.server import Reply, Request, Site

NO_SLOT_TEXT = "Aucune disponibilité pour le moment."
SLOT_TEXT = "Des créneaux sont disponibles"


def default_slots() -> list[str]:
    return ["lundi 7 décembre 2026 à 10h30", "mardi 8 décembre 2026 à 11h00"]


@dataclass
class GenericState:
    availability: str = "none"  # "none", "slots", "other" (an answer the watch does not know)
    slots: list[str] = field(default_factory=default_slots)
    failure: str | None = None  # "429"


class GenericSite(Site):
    def __init__(self, state: GenericState | None = None) -> None:
        super().__init__()
        self.state = state or GenericState()

    def handle(self, request: Request) -> Reply:
        if self.state.failure == "429":
            return Reply(429, "<html><body>Trop de requêtes</body></html>", headers={"Retry-After": "30"})
        if request.path == "/rendez-vous":
            return Reply(200, self.form_page())
        if request.path == "/rendez-vous/resultat":
            ok = request.query.get("dept") == "94" and request.query.get("cp") == "94000"
            return Reply(200 if ok else 400, self.answer() if ok else "<p>Formulaire incomplet.</p>")
        return Reply(404, "<html><body><h1>Page introuvable</h1></body></html>")

    def answer(self) -> str:
        kind = self.state.availability
        if kind == "slots":
            items = "".join(f'<li class="slot">{escape(s)}</li>' for s in self.state.slots)
            return f'<p class="result">{SLOT_TEXT} :</p><ul>{items}</ul>'
        if kind == "other":
            return '<p class="result">Le service est réservé aux habitants du département.</p>'
        return f'<p class="result">{NO_SLOT_TEXT}</p>'

    def form_page(self) -> str:
        return """<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Rendez-vous en ligne</title>
</head><body><h1>Prendre rendez-vous - Service des étrangers</h1>
<form id="search" onsubmit="return false">
<label for="dept">Département</label>
<select id="dept"><option value="">--</option><option value="75">Paris</option><option value="94">Val-de-Marne</option>
</select>
<label for="cp">Code postal</label><input id="cp" type="text">
<input id="consent" type="checkbox"><label for="consent">J'accepte le traitement de mes données</label>
<button id="go" type="button">Voir les disponibilités</button>
</form><div id="answer"></div>
<script>
document.getElementById('go').addEventListener('click', function () {
  if (!document.getElementById('consent').checked) { return; }
  var q = 'dept=' + document.getElementById('dept').value + '&cp=' + document.getElementById('cp').value;
  setTimeout(function () {
    fetch('/rendez-vous/resultat?' + q).then(function (r) { return r.text(); }).then(function (t) {
      document.getElementById('answer').innerHTML = t;
    });
  }, 200);
});
</script></body></html>"""

// rdv-monitor dashboard: the only script. Pages work without it; it keeps the captcha page current.
(function () {
  "use strict";
  const body = document.body;
  if (body.dataset.poll !== "assist") { return; }
  const shown = body.dataset.tasks || "";
  const typing = () => {
    const el = document.activeElement;
    return el && el.name === "answer" && el.value !== "";
  };
  async function poll() {
    try {
      const reply = await fetch("/api/assist", { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (reply.ok) {
        const ids = (await reply.json()).map((t) => t.id).join(",");
        if (ids !== shown && !typing()) { window.location.replace("/assist"); return; }
      }
    } catch (err) { /* the service may be restarting: try again later */ }
    window.setTimeout(poll, 2000);
  }
  window.setTimeout(poll, 2000);
})();

// Consultation forms: say when a field becomes needed, as the person fills the form. The server judges
// anyway (a missing justification is refused and recorded); this only spares a round trip.
document.addEventListener("DOMContentLoaded", () => {
  // The consult form: checking a unit the rule does not require makes the justification needed.
  for (const form of document.querySelectorAll("[data-test=action-consult]")) {
    const field = form.querySelector("[data-justification]");
    if (!field) continue;
    const extras = form.querySelectorAll("input[data-needs-justification]");
    const update = () => {
      const needed = Array.from(extras).some((box) => box.checked);
      field.classList.toggle("justification-needed", needed);
      field.querySelector("textarea").required = needed;
    };
    extras.forEach((box) => box.addEventListener("change", update));
    update();
  }
  // The answer form: a comment is needed unless the unit simply agrees.
  for (const form of document.querySelectorAll("[data-test=respond-form], [data-test=action-respond]")) {
    const comment = form.querySelector("textarea[name=comment]");
    const positions = form.querySelectorAll("input[name=position]");
    if (!comment) continue;
    const update = () => {
      const chosen = form.querySelector("input[name=position]:checked");
      comment.required = Boolean(chosen) && chosen.value !== "agree";
    };
    positions.forEach((radio) => radio.addEventListener("change", update));
    update();
  }
});

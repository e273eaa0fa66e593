// Buttons marked data-print open the browser's print dialog (the page's print styles do the rest).
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("[data-print]")) {
    button.addEventListener("click", () => window.print());
  }
});

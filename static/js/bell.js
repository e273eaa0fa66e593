// The bell's menu: the latest unread notices, fetched each time it opens, so that what was read elsewhere is
// gone. Without this script (or when the fetch fails) the bell is a plain link to the list of notices.
document.addEventListener("DOMContentLoaded", () => {
  const bell = document.querySelector("[data-bell]");
  const list = document.querySelector("[data-bell-list]");
  if (!bell || !list || !window.bootstrap) {
    return;
  }
  bell.setAttribute("data-bs-toggle", "dropdown");
  bell.setAttribute("role", "button");
  bell.setAttribute("aria-haspopup", "true");
  window.bootstrap.Dropdown.getOrCreateInstance(bell);
  bell.addEventListener("show.bs.dropdown", () => {
    fetch(bell.dataset.bellLatest, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
      .then((html) => {
        list.innerHTML = html;
      })
      .catch(() => {
        window.location.assign(bell.href);
      });
  });
});

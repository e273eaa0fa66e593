// The warning before an idle session ends (core/sessions.py). The page says on <body> how long the session has
// left; shortly before the end the warning offers "stay signed in", whose keep-alive counts as activity on the
// server. Checking the time left does not count (X-Session-Passive), so a page left open does not keep itself
// signed in, and another tab's activity is seen before this one warns. When the session has ended the page is
// left as it is, so that what was typed can still be copied.
document.addEventListener("DOMContentLoaded", () => {
  const data = document.body.dataset;
  const box = document.querySelector("[data-session-warning]");
  if (!data.sessionIdleSeconds || !box) {
    return;
  }
  const text = box.querySelector("[data-session-warning-text]");
  const stay = box.querySelector("[data-session-stay]");
  const warningMs = Number(data.sessionWarningSeconds) * 1000;
  let deadline = Date.now() + Number(data.sessionSecondsLeft) * 1000;
  let timer = null;
  let ticker = null;

  function clearTimers() {
    clearTimeout(timer);
    clearInterval(ticker);
  }

  function schedule() {
    clearTimers();
    box.hidden = true;
    timer = setTimeout(check, Math.max(0, deadline - warningMs - Date.now()));
  }

  function ended() {
    clearTimers();
    text.textContent = text.dataset.textEnded;
    stay.hidden = true;
    box.hidden = false;
  }

  function showCountdown() {
    const left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    text.textContent = text.dataset.textEnds
      .replace("{minutes}", String(Math.floor(left / 60)))
      .replace("{seconds}", String(left % 60));
    if (left === 0) {
      check();
    }
  }

  function warn() {
    clearTimers();
    stay.hidden = false;
    box.hidden = false;
    showCountdown();
    ticker = setInterval(showCountdown, 1000);
  }

  // The server's clock decides: it knows about the person's other tabs.
  function update(response) {
    if (!response.ok) {
      ended();
      return;
    }
    response.json().then((body) => {
      deadline = Date.now() + body.seconds_left * 1000;
      if (body.seconds_left <= 0) {
        ended();
      } else if (body.seconds_left * 1000 > warningMs) {
        schedule();
      } else {
        warn();
      }
    });
  }

  function check() {
    clearTimers();
    fetch(data.sessionStatusUrl, {credentials: "same-origin", headers: {"X-Session-Passive": "1"}})
      .then(update, warn);
  }

  stay.addEventListener("click", () => {
    fetch(data.sessionKeepAliveUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {"X-CSRFToken": data.csrfToken},
    }).then(update, warn);
  });

  schedule();
});

// Before a form is sent, what the server would refuse for its size is told next to the field and the form is
// not sent, so that the page stays as it is with everything typed (the server refuses the same: core/pages.py).
// A field's limit is its `maxlength` or its `data-max-chars`, counted in characters as Django counts them; the
// form's is its `data-max-bytes`, else the site's (<meta name="cityops-form-limits">: DATA_UPLOAD_MAX_MEMORY_SIZE),
// counted as Django counts a body: url-encoded, or the fields of a multipart body without its files.
// The "go back" link of the refusal pages goes back in the browser's history, where the form keeps what was typed.
(() => {
  const meta = document.querySelector('meta[name="cityops-form-limits"]');
  const texts = meta ? meta.dataset : {};
  const siteLimit = meta ? Number(meta.content) || 0 : 0;
  const encoder = new TextEncoder();
  const MESSAGE = "data-form-limit-message";
  const INVALID = "data-form-limit-invalid";
  let counter = 0;

  function fill(template, values) {
    return (template || "").replace(/\{(\w+)\}/g, (match, key) => (key in values ? values[key] : match));
  }

  function number(value, digits = 0) {
    return value.toLocaleString(document.documentElement.lang || undefined, {maximumFractionDigits: digits});
  }

  function characters(text) {
    // Code points, as the server's max_length counts: an emoji is one character, not two.
    let count = 0;
    for (const _ of text) {
      count += 1;
    }
    return count;
  }

  function limitOf(field) {
    const raw = field.dataset.maxChars || field.getAttribute("maxlength");
    const limit = Number(raw);
    return raw && limit > 0 ? limit : 0;
  }

  function bodyBytes(form, submitter) {
    let data;
    try {
      data = new FormData(form, submitter || undefined);
    } catch (error) {
      data = new FormData(form);
    }
    if ((form.getAttribute("enctype") || "").toLowerCase() === "multipart/form-data") {
      let size = 0;
      for (const [name, value] of data) {
        if (typeof value === "string") {
          size += encoder.encode(name).length + encoder.encode(value).length + 2;
        }
      }
      return size;
    }
    return new URLSearchParams(data).toString().length;
  }

  function message(text, className) {
    const box = document.createElement("div");
    counter += 1;
    box.id = `form-limit-${counter}`;
    box.className = className;
    box.setAttribute(MESSAGE, "");
    box.setAttribute("role", "alert");
    box.textContent = text;
    return box;
  }

  function unmark(field) {
    const box = field.formLimitMessage;
    if (box) {
      box.remove();
      const described = (field.getAttribute("aria-describedby") || "").split(" ").filter((id) => id && id !== box.id);
      if (described.length) {
        field.setAttribute("aria-describedby", described.join(" "));
      } else {
        field.removeAttribute("aria-describedby");
      }
    }
    field.formLimitMessage = null;
    field.classList.remove("is-invalid");
    field.removeAttribute(INVALID);
    field.removeAttribute("aria-invalid");
  }

  function mark(field, text) {
    const box = message(text, "invalid-feedback d-block");
    field.classList.add("is-invalid");
    field.setAttribute(INVALID, "");
    field.setAttribute("aria-invalid", "true");
    field.setAttribute("aria-describedby", `${field.getAttribute("aria-describedby") || ""} ${box.id}`.trim());
    field.formLimitMessage = box;
    field.insertAdjacentElement("afterend", box);
  }

  function clear(form) {
    form.querySelectorAll(`[${INVALID}]`).forEach(unmark);
    form.querySelectorAll(`[${MESSAGE}]`).forEach((box) => box.remove());
  }

  function tooLongFields(form) {
    const fields = [];
    for (const field of form.elements) {
      if (!(field instanceof HTMLTextAreaElement || field instanceof HTMLInputElement) || field.disabled) {
        continue;
      }
      const limit = limitOf(field);
      const count = limit ? characters(field.value) : 0;
      if (limit && count > limit) {
        mark(field, fill(texts.textChars, {limit: number(limit), count: number(count)}));
        fields.push(field);
      }
    }
    return fields;
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || (form.getAttribute("method") || "get").toLowerCase() !== "post") {
      return;
    }
    clear(form);
    let first = tooLongFields(form)[0] || null;
    const limit = Number(form.dataset.maxBytes) || siteLimit;
    if (!first && limit) {
      const size = bodyBytes(form, event.submitter);
      if (size > limit) {
        first = message(fill(texts.textBytes, {size: number(size / 2 ** 20, 1), limit: number(limit / 2 ** 20, 1)}),
                        "alert alert-danger");
        first.tabIndex = -1;
        form.prepend(first);
      }
    }
    if (first) {
      event.preventDefault();
      event.stopImmediatePropagation();
      first.scrollIntoView({block: "center"});
      first.focus({preventScroll: true});
    }
  }, true);

  // A field shortened enough loses its message at once.
  document.addEventListener("input", (event) => {
    const field = event.target;
    if (field instanceof HTMLElement && field.hasAttribute(INVALID) && characters(field.value) <= limitOf(field)) {
      unmark(field);
    }
  });

  document.addEventListener("click", (event) => {
    const link = event.target instanceof Element ? event.target.closest("[data-go-back]") : null;
    if (link && window.history.length > 1) {
      event.preventDefault();
      window.history.back();
    }
  });
})();

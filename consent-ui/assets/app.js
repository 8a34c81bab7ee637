// Progressive enhancement for the Gosuslugi ID pages. Every page works without this script.
// Loaded with `defer` from /assets/app.js, so it is allowed by `Content-Security-Policy: default-src 'self'`.
(function () {
  "use strict";

  // Show/hide password: the toggle button is in the page but `hidden` until the script runs.
  document.querySelectorAll("[data-password-toggle]").forEach(function (button) {
    var input = document.getElementById(button.getAttribute("data-password-toggle"));
    if (!input) {
      return;
    }
    var show = button.getAttribute("data-label-show") || button.textContent;
    var hide = button.getAttribute("data-label-hide") || button.textContent;
    button.hidden = false;
    button.addEventListener("click", function () {
      var revealed = input.type === "password";
      input.type = revealed ? "text" : "password";
      button.textContent = revealed ? hide : show;
      input.focus();
    });
    if (input.form) {
      // Password managers expect a password field when the form is sent.
      input.form.addEventListener("submit", function () {
        input.type = "password";
        button.textContent = show;
      });
    }
  });

  // No double submission. The submit buttons are disabled only after the browser has collected the form
  // data, so the clicked button's name/value (e.g. decision=allow) is still sent.
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.getAttribute("data-submitted") === "1") {
        event.preventDefault();
        return;
      }
      form.setAttribute("data-submitted", "1");
      window.setTimeout(function () {
        form.querySelectorAll("button[type=submit]").forEach(function (button) {
          button.disabled = true;
        });
      }, 0);
    });
  });

  // Coming back with the Back button (page restored from cache): make the forms usable again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) {
      return;
    }
    document.querySelectorAll("form[data-once]").forEach(function (form) {
      form.removeAttribute("data-submitted");
      form.querySelectorAll("button[type=submit]").forEach(function (button) {
        button.disabled = false;
      });
    });
  });
})();

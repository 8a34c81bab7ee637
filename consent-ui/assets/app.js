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

// ===== Registration: live password-strength meter =====
// The server renders the meter after a failed attempt; this updates it while typing. The score
// mirrors the server's rules roughly (length and character classes); the server decides.
(function () {
  "use strict";

  document.querySelectorAll("[data-strength-for]").forEach(function (box) {
    var input = document.getElementById(box.getAttribute("data-strength-for"));
    var meter = box.querySelector("meter");
    var label = box.querySelector(".strength__label");
    var labels = (box.getAttribute("data-strength-labels") || "").split("|");
    if (!input || !meter || !label || labels.length !== 5) {
      return;
    }
    var runs = ["1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm", "qaz", "wsx", "edc", "rfv", "tgb", "yhn", "ujm"];
    function hasRun(text) {
      var lower = text.toLowerCase();
      for (var i = 0; i + 3 <= lower.length; i++) {
        var s = lower.substr(i, 3);
        var r = s.split("").reverse().join("");
        for (var j = 0; j < runs.length; j++) {
          if (runs[j].indexOf(s) !== -1 || runs[j].indexOf(r) !== -1) {
            return true;
          }
        }
      }
      return false;
    }
    function score(text) {
      var classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[!-\/:-@\[-`{-~]/].filter(function (re) {
        return re.test(text);
      }).length;
      var latin = /^[!-~]*$/.test(text);
      if (text.length < 8 || classes < 4 || !latin || hasRun(text)) {
        return text.length >= 8 ? 1 : 0;
      }
      if (text.length >= 12) {
        return 4;
      }
      return text.length >= 10 ? 3 : 2;
    }
    function update() {
      var value = input.value;
      if (value === "" && box.getAttribute("data-server-scored") !== "1") {
        box.hidden = true;
        return;
      }
      var n = score(value);
      box.hidden = false;
      meter.value = n;
      label.textContent = labels[n];
      box.className = box.className.replace(/\bstrength--\d\b/, "strength--" + n);
    }
    if (!box.hidden) {
      box.setAttribute("data-server-scored", "1");
    }
    input.addEventListener("input", update);
  });
})();
// ===== end of registration =====
// ===== login by electronic signature =====
// A hook for a real browser signing plug-in (CryptoPro, Рутокен, …). The page works without
// it: the person pastes or uploads the signature. A plug-in adapter registers itself with
//   window.IdpSignature.register(function (challenge) { return Promise.resolve(base64Cms); });
// and the page then shows a "sign with the plug-in" button that fills in the textarea with
// the detached CMS signature (base64) of the challenge text.
(function () {
  "use strict";
  var signer = null;
  function wire() {
    var form = document.querySelector("[data-signature-form]");
    if (!form || !signer) {
      return;
    }
    var button = form.querySelector("[data-signature-plugin]");
    var output = form.querySelector("[data-signature-output]");
    var challenge = form.querySelector("input[name=challenge]");
    if (!button || !output || !challenge) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      button.disabled = true;
      Promise.resolve(signer(challenge.value)).then(function (sig) {
        output.value = String(sig || "");
        button.disabled = false;
      }, function () {
        button.disabled = false;
      });
    });
  }
  window.IdpSignature = {
    register: function (fn) {
      signer = fn;
      if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", wire);
      } else {
        wire();
      }
    }
  };
})();
// ===== end of login by electronic signature =====

// Passkeys (WebAuthn) in the browser: adding a passkey in the personal account, logging in
// with a passkey (a button, and browser autofill where offered), and a passkey as the second
// step of a two-step login. The server sends and receives WebAuthn JSON with binary fields
// as base64url; this file converts them. Elements that need this script carry `hidden` in
// the HTML and are shown here, so pages without JavaScript never show dead buttons.
(function () {
  "use strict";

  var supported = !!(window.PublicKeyCredential && navigator.credentials);
  var lang = document.documentElement.lang === "en" ? "en" : "ru";
  var texts = {
    ru: {
      unsupported: "Этот браузер не поддерживает ключи доступа.",
      cancelled: "Действие отменено или время на подтверждение истекло.",
      failed: "Не удалось связаться с сервером. Попробуйте ещё раз."
    },
    en: {
      unsupported: "This browser does not support passkeys.",
      cancelled: "Cancelled, or the time to confirm ran out.",
      failed: "Could not reach the server. Try again."
    }
  }[lang];

  function toBytes(s) {
    var b64 = s.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var bin = atob(b64);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out.buffer;
  }

  function toB64(buf) {
    var bytes = new Uint8Array(buf);
    var bin = "";
    for (var i = 0; i < bytes.length; i++) { bin += String.fromCharCode(bytes[i]); }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function creationOptions(json) {
    var pk = json.publicKey;
    pk.challenge = toBytes(pk.challenge);
    pk.user.id = toBytes(pk.user.id);
    (pk.excludeCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return pk;
  }

  function requestOptions(json) {
    var pk = json.publicKey;
    pk.challenge = toBytes(pk.challenge);
    (pk.allowCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return pk;
  }

  function extensions(cred) {
    try { return cred.getClientExtensionResults() || {}; } catch (e) { return {}; }
  }

  function created(cred) {
    var r = cred.response;
    return {
      id: cred.id,
      rawId: toB64(cred.rawId),
      type: cred.type,
      response: {
        attestationObject: toB64(r.attestationObject),
        clientDataJSON: toB64(r.clientDataJSON),
        transports: r.getTransports ? r.getTransports() : undefined
      },
      clientExtensionResults: extensions(cred)
    };
  }

  function asserted(cred) {
    var r = cred.response;
    return {
      id: cred.id,
      rawId: toB64(cred.rawId),
      type: cred.type,
      response: {
        authenticatorData: toB64(r.authenticatorData),
        clientDataJSON: toB64(r.clientDataJSON),
        signature: toB64(r.signature),
        userHandle: r.userHandle ? toB64(r.userHandle) : null
      },
      clientExtensionResults: extensions(cred)
    };
  }

  function post(url, body, csrfHeader) {
    var headers = { "Content-Type": "application/json", "Accept": "application/json" };
    if (csrfHeader) { headers["X-CSRF-Token"] = csrfHeader; }
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: headers,
      body: JSON.stringify(body)
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (data) {
        if (!resp.ok) {
          var err = new Error(data.message || texts.failed);
          err.server = true;
          throw err;
        }
        return data;
      });
    });
  }

  // Where a message for `el` goes: a [data-passkey-error] / #passkey-error near it, or a
  // new alert inserted after it.
  function errorBox(el) {
    var scope = el.closest("form, section, div") || document;
    var box = scope.querySelector("[data-passkey-error], #passkey-error");
    if (!box) {
      box = document.createElement("p");
      box.className = "alert alert--error";
      box.setAttribute("role", "alert");
      box.setAttribute("data-passkey-error", "");
      el.parentNode.insertBefore(box, el.nextSibling);
    }
    return box;
  }

  function show(el, message) {
    var box = errorBox(el);
    box.textContent = message;
    box.hidden = false;
  }

  function explain(err) {
    if (err && err.server) { return err.message; }
    if (err && (err.name === "NotAllowedError" || err.name === "AbortError")) { return texts.cancelled; }
    return texts.failed;
  }

  function csrfNear(el) {
    if (el.getAttribute("data-csrf")) { return el.getAttribute("data-csrf"); }
    var form = el.closest("form");
    var input = (form || document).querySelector("input[name=csrf]");
    return input ? input.value : "";
  }

  function go(data) {
    if (data && data.redirect) { window.location.assign(data.redirect); }
  }

  // ----- adding a passkey (personal account) -----
  document.querySelectorAll("[data-passkey-register]").forEach(function (form) {
    form.hidden = false;
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (!supported) { show(form, form.getAttribute("data-msg-unsupported") || texts.unsupported); return; }
      var csrf = form.getAttribute("data-csrf");
      var nameInput = form.querySelector("input[name=name]");
      var button = form.querySelector("button[type=submit]");
      if (button) { button.disabled = true; }
      post("/api/security/passkeys/options", {}, csrf)
        .then(function (options) {
          return navigator.credentials.create({ publicKey: creationOptions(options) });
        })
        .then(function (cred) {
          return post("/api/security/passkeys", {
            name: nameInput ? nameInput.value : "",
            credential: created(cred)
          }, csrf);
        })
        .then(function () { window.location.reload(); })
        .catch(function (err) {
          if (button) { button.disabled = false; }
          show(form, explain(err));
        });
    });
  });

  // ----- passwordless login -----
  var conditional = null;
  // An autofill credential is being sent: a click must not start a second ceremony, whose
  // options would replace the one the server is about to check.
  var finishing = false;

  function loginWith(el, mediation) {
    var tx = el.getAttribute("data-tx");
    var csrf = csrfNear(el);
    var foreign = document.getElementById("foreign_computer");
    var signal = null;
    return post("/login/passkey/options", { tx: tx, csrf: csrf, lang: lang })
      .then(function (options) {
        var req = { publicKey: requestOptions(options) };
        if (mediation) {
          conditional = new AbortController();
          signal = conditional.signal;
          req.mediation = "conditional";
          req.signal = signal;
        }
        return navigator.credentials.get(req);
      })
      .then(function (cred) {
        // A click aborted autofill after the authenticator had already answered: drop it.
        if (signal && signal.aborted) {
          var aborted = new Error("aborted");
          aborted.name = "AbortError";
          throw aborted;
        }
        if (mediation) { finishing = true; }
        return post("/login/passkey", {
          tx: tx,
          csrf: csrf,
          lang: lang,
          foreign_computer: !!(foreign && foreign.checked),
          credential: asserted(cred)
        });
      })
      .then(go);
  }

  document.querySelectorAll("[data-passkey-login]").forEach(function (button) {
    if (!supported) { return; }
    var box = button.closest("[data-passkey-box]");
    if (box) { box.hidden = false; }
    button.hidden = false;
    button.addEventListener("click", function () {
      if (finishing) { return; }
      if (conditional) { conditional.abort(); conditional = null; }
      button.disabled = true;
      loginWith(button, false).catch(function (err) {
        button.disabled = false;
        show(button, explain(err));
      });
    });
    // Browser autofill: offer passkeys in the login field's suggestions where supported.
    var field = document.querySelector("input[autocomplete~=webauthn]");
    if (field && PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then(function (ok) {
        if (!ok) { return; }
        loginWith(button, true).catch(function (err) {
          finishing = false;
          if (err && err.name === "AbortError") { return; }
          if (err && err.server) { show(button, err.message); }
        });
      });
    }
  });

  // ----- a passkey as the second step -----
  document.querySelectorAll("[data-passkey-second]").forEach(function (button) {
    if (!supported) { button.hidden = true; return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var pending = button.getAttribute("data-pending");
      var csrf = csrfNear(button);
      button.disabled = true;
      post("/login/second/passkey/options", { pending: pending, csrf: csrf, lang: lang })
        .then(function (options) {
          return navigator.credentials.get({ publicKey: requestOptions(options) });
        })
        .then(function (cred) {
          return post("/login/second/passkey", {
            pending: pending,
            csrf: csrf,
            lang: lang,
            credential: asserted(cred)
          });
        })
        .then(go)
        .catch(function (err) {
          button.disabled = false;
          show(button, explain(err));
        });
    });
  });
})();

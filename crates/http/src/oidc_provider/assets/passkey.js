// The hosted login page's passkeys: the browser's autofill in the username
// field (conditional mediation) and the "Sign in with a passkey" button.
// Either asks Limen for a login ceremony (POST /passkeys/authentication/
// options), lets the browser get an assertion, and sends it in the page's
// own form; Limen answers as for any login (to the application, or this
// page with the refusal).
(function () {
  'use strict';
  var form = document.getElementById('passkey-form');
  var button = document.getElementById('passkey-button');
  var error = document.getElementById('passkey-error');
  if (!form || !button || !window.PublicKeyCredential || !window.fetch ||
      !PublicKeyCredential.parseRequestOptionsFromJSON) {
    return;
  }
  var pending = null;

  function options() {
    return fetch('/passkeys/authentication/options', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{}',
      credentials: 'same-origin'
    }).then(function (response) {
      if (!response.ok) { throw new Error('options ' + response.status); }
      return response.json();
    });
  }

  // One ceremony at a time: the button's replaces the autofill's.
  function ask(mediation) {
    if (pending) { pending.abort(); }
    var controller = new AbortController();
    pending = controller;
    return options().then(function (started) {
      var request = {
        publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(started.publicKey),
        signal: controller.signal
      };
      if (mediation) { request.mediation = mediation; }
      return navigator.credentials.get(request).then(function (credential) {
        if (!credential) { return; }
        form.elements.ceremony.value = started.ceremony;
        form.elements.credential.value = JSON.stringify(credential.toJSON());
        form.submit();
      });
    }).catch(function (err) {
      // A replaced or cancelled request is no failure worth telling.
      if (mediation || err.name === 'AbortError' || err.name === 'NotAllowedError') { return; }
      error.textContent = button.dataset.failed || err.message;
      error.hidden = false;
    });
  }

  button.hidden = false;
  button.addEventListener('click', function () { ask(null); });
  if (PublicKeyCredential.isConditionalMediationAvailable) {
    PublicKeyCredential.isConditionalMediationAvailable().then(function (available) {
      if (available) { ask('conditional'); }
    });
  }
}());

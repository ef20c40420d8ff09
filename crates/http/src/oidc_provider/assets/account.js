// The account page's "Add a passkey": asks the page for a registration
// ceremony (action=add_options), lets the browser create the passkey, and
// sends it back (action=add) with the name typed; then shows the page again.
(function () {
  'use strict';
  var form = document.getElementById('passkey-add');
  var error = document.getElementById('passkey-add-error');
  if (!form || !window.PublicKeyCredential || !window.fetch ||
      !PublicKeyCredential.parseCreationOptionsFromJSON) {
    return;
  }

  function post(fields) {
    var body = new URLSearchParams(fields);
    body.set('csrf', form.elements.csrf.value);
    return fetch('/oidc/account', {
      method: 'POST',
      body: body,
      credentials: 'same-origin'
    }).then(function (response) {
      return response.json().then(function (answer) {
        if (!response.ok) { throw new Error(answer.message || ('status ' + response.status)); }
        return answer;
      });
    });
  }

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    error.hidden = true;
    var name = form.elements.name.value;
    post({ action: 'add_options' }).then(function (started) {
      return navigator.credentials.create({
        publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(started.publicKey)
      }).then(function (credential) {
        return post({
          action: 'add',
          ceremony: started.ceremony,
          name: name,
          credential: JSON.stringify(credential.toJSON())
        });
      });
    }).then(function () {
      window.location.reload();
    }).catch(function (err) {
      if (err.name === 'NotAllowedError' || err.name === 'AbortError') { return; }
      error.textContent = err.message;
      error.hidden = false;
    });
  });
}());

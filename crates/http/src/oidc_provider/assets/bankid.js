// The hosted login page's BankID step: sends the page's own form every
// second as the order's collect, renews the QR code and BankID's message
// from the answer, and follows the login to the application when the
// order completes. Without this script the form's Continue button does
// the same one step at a time.
(function () {
  'use strict';
  var form = document.getElementById('bankid-collect');
  if (!form || !window.fetch) { return; }
  var qr = document.getElementById('bankid-qr');
  var status = document.getElementById('bankid-status');
  var open = document.getElementById('bankid-open');
  var retry = document.getElementById('bankid-retry');
  document.getElementById('bankid-continue').hidden = true;
  retry.hidden = true;
  var failures = 0;

  function ended(message) {
    status.textContent = message;
    status.setAttribute('role', 'alert');
    qr.hidden = true;
    open.hidden = true;
    retry.hidden = false;
    retry.focus();
  }

  function poll() {
    fetch(form.action, {
      method: 'POST',
      headers: { 'Accept': 'application/json' },
      body: new URLSearchParams(new FormData(form)),
      credentials: 'same-origin'
    }).then(function (response) {
      return response.json();
    }).then(function (answer) {
      failures = 0;
      if (answer.status === 'complete') {
        window.location.assign(answer.location);
        return;
      }
      if (answer.status === 'pending') {
        if (answer.message) { status.textContent = answer.message; }
        if (answer.qr) { qr.src = answer.qr; }
        window.setTimeout(poll, 1000);
        return;
      }
      ended(answer.message || '');
    }).catch(function () {
      // A lost answer is tried again; the order outlives a short outage.
      failures += 1;
      if (failures < 10) { window.setTimeout(poll, 2000); } else { ended(''); }
    });
  }

  window.setTimeout(poll, 1000);
}());

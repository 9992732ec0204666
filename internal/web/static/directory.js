// The Directory's "Copy email addresses" button. Without this file the
// addresses are still on the page, in a text box to select and copy.
(function () {
  'use strict';
  var button = document.getElementById('copy-emails');
  var text = document.getElementById('emails');
  var status = document.getElementById('copy-status');
  if (!button || !text || !status) return;
  button.hidden = false;
  function done(ok) {
    var n = text.value ? text.value.split(', ').length : 0;
    status.textContent = ok
      ? 'Copied ' + n + (n === 1 ? ' address.' : ' addresses.')
      : 'Copying is not allowed here: open Email addresses and copy them from the box.';
  }
  button.addEventListener('click', function () {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text.value).then(function () { done(true); }, function () { done(false); });
      return;
    }
    // Plain HTTP on a private network has no clipboard API: select the
    // text and use the older copy command.
    var box = text.closest('details');
    if (box) box.open = true;
    text.focus();
    text.select();
    var ok = false;
    try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
    done(ok);
  });
})();

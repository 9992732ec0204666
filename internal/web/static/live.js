// Live updates: listen to the server's change stream and refresh what
// this page shows. Loaded only when the server has a stream (the body's
// data-live-url), so no page asks for a stream that is not there.
(function () {
  'use strict';
  var url = document.body.getAttribute('data-live-url');
  if (!url || !window.EventSource || !window.fetch) return;

  var main = document.getElementById('main');
  var form = document.getElementById('group-form');
  var timer = null;

  // Replace <main> with the same page fetched again, unless the person is
  // in the middle of something there (a menu open, typing in a field):
  // then try again shortly.
  function refresh() {
    timer = null;
    var active = document.activeElement;
    var busy = main.querySelector('details[open]') ||
      (active && main.contains(active) && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName));
    if (busy) { schedule(1500); return; }
    fetch(window.location.href, { credentials: 'same-origin', headers: { 'Accept': 'text/html' } })
      .then(function (res) {
        if (!res.ok || res.redirected) return null;
        return res.text();
      })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, 'text/html');
        var fresh = doc.getElementById('main');
        if (!fresh) return;
        var focusedId = active && main.contains(active) ? active.id : '';
        main.innerHTML = fresh.innerHTML;
        if (focusedId) {
          var again = document.getElementById(focusedId);
          if (again) again.focus();
        }
      })
      .catch(function () { /* the next change tries again */ });
  }
  function schedule(ms) {
    if (timer === null) timer = window.setTimeout(refresh, ms);
  }

  // On an edit form, never replace what the person is typing: tell them
  // instead when someone else changed this group.
  function warn() {
    var banner = document.getElementById('live-banner');
    if (!banner) return;
    banner.textContent = 'This group was changed by someone else. Reload to see the latest version.';
    banner.hidden = false;
  }

  var source = new EventSource(url);
  source.addEventListener('change', function (e) {
    var data;
    try { data = JSON.parse(e.data); } catch (err) { return; }
    if (!data || typeof data.type !== 'string') return;
    if (data.type.indexOf('group.') !== 0 && data.type.indexOf('user.') !== 0) return;
    if (form) {
      var id = form.getAttribute('data-group');
      var version = Number(form.getAttribute('data-version') || 0);
      if (id && data.group_id === id && Number(data.version) > version) warn();
      return;
    }
    schedule(250);
  });
  // EventSource reconnects by itself; closing on page exit avoids a
  // reconnect attempt racing the navigation.
  window.addEventListener('pagehide', function () { source.close(); });
})();

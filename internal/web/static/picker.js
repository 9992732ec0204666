// The user picker on the Add and Edit group forms: search as you type and
// page without reloading the form. Without this file the Search, More
// staff and Previous staff buttons post the form and the server renders
// it again with everything kept; this script follows the same rules.
(function () {
  'use strict';
  var form = document.getElementById('group-form');
  var results = document.getElementById('picker-results');
  var search = document.getElementById('picker-q');
  var keep = document.getElementById('picker-keep');
  if (!form || !results || !search || !keep || !window.fetch) return;
  var save = form.querySelector('button[name="op"][value="save"]');
  var role = document.getElementById('picker-role');
  var place = document.getElementById('picker-location');
  var selected = document.getElementById('selected');
  var group = form.getAttribute('data-group') || '';
  var timer = null;
  var latest = 0;

  // The choices carried in hidden fields: id -> 'add' | 'remove'.
  function carried() {
    var m = {};
    keep.querySelectorAll('input').forEach(function (i) {
      m[i.value] = i.name === 'keep_add' ? 'add' : 'remove';
    });
    return m;
  }
  function carry(m) {
    keep.textContent = '';
    Object.keys(m).forEach(function (id) {
      var i = document.createElement('input');
      i.type = 'hidden';
      i.name = m[id] === 'add' ? 'keep_add' : 'keep_remove';
      i.value = id;
      keep.appendChild(i);
    });
  }
  // Fold the boxes on screen into the carried choices: a box differing
  // from the stored membership is a choice; one that matches is not.
  function collect() {
    var m = carried();
    results.querySelectorAll('input[type="checkbox"][name="member"]').forEach(function (box) {
      var member = box.hasAttribute('data-member');
      if (box.checked !== member) m[box.value] = box.checked ? 'add' : 'remove';
      else delete m[box.value];
    });
    return m;
  }
  function apply(m) {
    results.querySelectorAll('input[type="checkbox"][name="member"]').forEach(function (box) {
      if (m[box.value] === 'add') box.checked = true;
      if (m[box.value] === 'remove') box.checked = false;
    });
  }

  function load(extra) {
    var m = collect();
    carry(m);
    var params = new URLSearchParams();
    params.set('q', search.value);
    if (role && role.value) params.set('role', role.value);
    if (place && place.value) params.set('location', place.value);
    if (group) params.set('group', group);
    Object.keys(extra || {}).forEach(function (k) { params.set(k, extra[k]); });
    var mine = ++latest;
    results.setAttribute('aria-busy', 'true');
    fetch('/settings/groups/picker?' + params.toString(), {
      credentials: 'same-origin',
      headers: { 'Accept': 'text/html' }
    }).then(function (res) {
      if (!res.ok || res.redirected) throw new Error('picker ' + res.status);
      return res.text();
    }).then(function (html) {
      if (mine !== latest) return;
      results.innerHTML = html;
      apply(m);
      summarize();
    }).catch(function () {
      // Leave the list as it is: the Search button still works.
    }).then(function () {
      if (mine === latest) results.removeAttribute('aria-busy');
    });
  }

  [role, place].forEach(function (sel) {
    if (sel) sel.addEventListener('change', function () { load(); });
  });

  // The Selected panel follows the ticks: an entry per person whose box
  // differs from the stored membership, and the count the group will
  // have on Save. Its buttons take a person out of the change.
  function summarize() {
    if (!selected) return;
    var m = collect();
    var added = 0, removed = 0;
    Object.keys(m).forEach(function (id) { if (m[id] === 'add') added++; else removed++; });
    var base = parseInt(selected.getAttribute('data-base'), 10) || 0;
    var editing = selected.hasAttribute('data-editing');
    var count = base + added - removed;
    var p = document.getElementById('selected-count');
    var strong = document.createElement('strong');
    strong.textContent = String(count);
    p.textContent = '';
    p.appendChild(strong);
    var users = count === 1 ? ' user' : ' users';
    p.appendChild(document.createTextNode(editing
      ? users + ' after Save: ' + base + ' now, + ' + added + ' added, − ' + removed + ' removed.'
      : users + ' selected.'));
    var empty = document.getElementById('selected-empty');
    if (empty) empty.hidden = added > 0;
  }
  function entryOf(id) {
    return selected && selected.querySelector('li.selected-entry[data-id="' + CSS.escape(id) + '"]');
  }
  // sync puts box's person into the panel, or takes them out.
  function sync(box) {
    if (!selected) return;
    var member = box.hasAttribute('data-member');
    var old = entryOf(box.value);
    if (old) old.remove();
    if (box.checked !== member) {
      var kind = box.checked ? 'add' : 'remove';
      var label = results.querySelector('label[for="' + CSS.escape(box.id) + '"]');
      var li = document.createElement('li');
      li.className = 'selected-entry';
      li.setAttribute('data-id', box.value);
      li.setAttribute('data-kind', kind);
      if (kind === 'remove' || selected.hasAttribute('data-editing')) {
        var sign = document.createElement('span');
        sign.className = kind === 'add' ? 'added-sign' : 'removed-sign';
        sign.setAttribute('aria-hidden', 'true');
        sign.textContent = kind === 'add' ? '+' : '−';
        li.appendChild(sign);
        li.appendChild(document.createTextNode(' '));
      }
      var who = '';
      if (label) {
        label.childNodes.forEach(function (n) { li.appendChild(n.cloneNode(true)); });
        who = label.textContent.trim();
      }
      li.appendChild(document.createTextNode(' '));
      var b = document.createElement('button');
      b.type = 'submit';
      b.name = 'unpick';
      b.value = box.value;
      b.className = 'link-button';
      b.textContent = kind === 'add' ? 'Remove' : 'Keep';
      var hidden = document.createElement('span');
      hidden.className = 'visually-hidden';
      var name = label && label.querySelector('.person-name');
      var email = label && label.querySelector('.person-email');
      hidden.textContent = name && email ? ' ' + name.textContent + ' (' + email.textContent + ')' : ' ' + who;
      b.appendChild(hidden);
      li.appendChild(b);
      document.getElementById(kind === 'add' ? 'selected-added' : 'selected-removed').appendChild(li);
    }
    summarize();
  }
  results.addEventListener('change', function (e) {
    var t = e.target;
    if (t instanceof HTMLInputElement && t.name === 'member') sync(t);
  });
  if (selected) {
    selected.addEventListener('click', function (e) {
      var b = e.target.closest('button[name="unpick"]');
      if (!b) return;
      e.preventDefault();
      var id = b.value;
      var li = b.closest('li');
      var next = li.nextElementSibling || li.previousElementSibling;
      var box = results.querySelector('input[type="checkbox"][name="member"][value="' + CSS.escape(id) + '"]');
      if (box) box.checked = box.hasAttribute('data-member');
      keep.querySelectorAll('input').forEach(function (i) { if (i.value === id) i.remove(); });
      li.remove();
      summarize();
      // Keep the keyboard in the panel: the next entry, or the search.
      var to = next && next.querySelector('button[name="unpick"]');
      (to || search).focus();
    });
  }

  search.addEventListener('input', function () {
    if (timer !== null) window.clearTimeout(timer);
    timer = window.setTimeout(function () { timer = null; load(); }, 200);
  });
  form.addEventListener('keydown', function (e) {
    if (e.key !== 'Enter' || e.isComposing) return;
    var t = e.target;
    if (t === search) {
      // Enter in the search box searches now instead of posting the form.
      e.preventDefault();
      if (timer !== null) { window.clearTimeout(timer); timer = null; }
      load();
    } else if (t instanceof HTMLInputElement && t.type !== 'checkbox' && save) {
      // Enter in Name saves (the first button of the form is Search).
      e.preventDefault();
      form.requestSubmit(save);
    }
  });
  form.addEventListener('click', function (e) {
    var b = e.target.closest('button[name="op"][value="search"], button[name="picker_after"], button[name="picker_before"]');
    if (!b || !form.contains(b)) return;
    e.preventDefault();
    var extra = {};
    if (b.name === 'picker_after') extra.after = b.value;
    if (b.name === 'picker_before') extra.before = b.value;
    load(extra);
  });

  // Keyboard: Down in the search box moves to the first person, Up and
  // Down move between people (Space ticks), Escape returns to the search.
  function boxes() {
    return Array.prototype.slice.call(results.querySelectorAll('input[type="checkbox"][name="member"]'));
  }
  search.addEventListener('keydown', function (e) {
    if (e.key !== 'ArrowDown') return;
    var b = boxes();
    if (!b.length) return;
    e.preventDefault();
    b[0].focus();
  });
  results.addEventListener('keydown', function (e) {
    var t = e.target;
    if (!(t instanceof HTMLInputElement) || t.name !== 'member') return;
    var b = boxes();
    var i = b.indexOf(t);
    if (e.key === 'ArrowDown' && i < b.length - 1) {
      e.preventDefault();
      b[i + 1].focus();
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      (i > 0 ? b[i - 1] : search).focus();
    } else if (e.key === 'Escape') {
      e.preventDefault();
      search.focus();
    }
  });
})();

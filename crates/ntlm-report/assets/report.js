(function () {
  'use strict';
  var body = document.body;
  var doc = JSON.parse(document.getElementById('pairs').textContent);
  function pair(i) {
    var p = doc.pairs[i];
    var o = p && doc.outcomes[p[4]];
    if (!o) { return null; }
    return { client: p[0], server: p[1], client_profile: p[2], server_profile: p[3],
             change: o.change, label: o.label, before: o.before, after: o.after,
             certainty: o.certainty, assumed: o.assumed || [] };
  }
  var panel = document.getElementById('details');
  var cells = document.querySelectorAll('td.cell[data-i]');
  var selected = null;
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function row(dl, k, v, mono) {
    if (v === undefined || v === null || v === '') { return; }
    dl.appendChild(el('dt', null, k));
    dl.appendChild(el('dd', mono ? 'mono' : null, v));
  }
  function outcome(title, o, certainty) {
    var frag = document.createDocumentFragment();
    frag.appendChild(el('h4', null, title));
    var dl = el('dl');
    if (o.result === 'success') {
      row(dl, 'result', 'works');
      row(dl, 'negotiated', o.negotiated_flags + '\n' + o.negotiated_flags_names.join('\n'), true);
      row(dl, 'response', o.response_kind);
      row(dl, 'key', o.key_strength_bits + '-bit');
      row(dl, 'signing', o.signing ? 'yes' : 'no');
      row(dl, 'sealing', o.sealing ? 'yes' : 'no');
      row(dl, 'MIC', o.mic ? 'verified' : 'not checked');
    } else {
      row(dl, 'result', 'fails');
      row(dl, 'side', o.side);
      row(dl, 'message', 'on receipt of ' + o.stage.toUpperCase());
      row(dl, 'status', o.status + ' (' + o.status_code + ')', true);
      if (o.missing !== '0x00000000') {
        row(dl, 'missing', o.missing + '\n' + o.missing_names.join('\n'), true);
        row(dl, 'required', o.required, true);
        row(dl, 'evaluated', o.negotiated, true);
      }
      row(dl, 'reason', o.reason);
      row(dl, 'rule', o.rule_id + ': ' + o.rule_statement);
      row(dl, 'source', o.rule + ' [' + o.basis + ']');
    }
    row(dl, 'certainty', certainty);
    frag.appendChild(dl);
    return frag;
  }
  function show(td) {
    var p = pair(Number(td.getAttribute('data-i')));
    if (!p) { return; }
    if (selected) { selected.classList.remove('sel'); }
    selected = td;
    td.classList.add('sel');
    while (panel.firstChild) { panel.removeChild(panel.firstChild); }
    panel.appendChild(el('h3', null, p.client + ' \u2192 ' + p.server));
    if (p.client !== p.client_profile || p.server !== p.server_profile) {
      panel.appendChild(el('div', 'muted', p.client_profile + ' \u2192 ' + p.server_profile));
    }
    panel.appendChild(el('span', 'tag ' + td.getAttribute('data-class'), p.label));
    panel.appendChild(outcome('after the change', p.after, p.certainty));
    panel.appendChild(outcome('before', p.before));
    if (p.assumed.length) {
      panel.appendChild(el('h4', null, 'assumed profile facts'));
      for (var a = 0; a < p.assumed.length; a++) {
        var fact = el('p', 'assumed');
        fact.appendChild(el('b', null, p.assumed[a].profile + ' as ' + p.assumed[a].role + ': '));
        fact.appendChild(document.createTextNode(p.assumed[a].facts));
        panel.appendChild(fact);
      }
    }
  }
  function highlight(td, on) {
    var tr = td.parentNode;
    var head = tr.querySelector('th');
    if (head) { head.classList.toggle('hl', on); }
    var col = td.getAttribute('data-col');
    var th = document.querySelector('thead th[data-col="' + col + '"]');
    if (th) { th.classList.toggle('hl', on); }
  }
  var failing = 0;
  for (var i = 0; i < cells.length; i++) {
    (function (td) {
      var p = pair(Number(td.getAttribute('data-i')));
      if (p && p.after.result === 'failure') { failing++; }
      td.addEventListener('click', function () { show(td); });
      td.addEventListener('keydown', function (ev) {
        if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); show(td); }
      });
      td.addEventListener('mouseenter', function () { highlight(td, true); });
      td.addEventListener('mouseleave', function () { highlight(td, false); });
    })(cells[i]);
  }
  var first = document.querySelector('td.cell.nb') || document.querySelector('td.cell.ab');
  if (first) { show(first); }
  // "What to do": each cause finds its newly broken cells (same side,
  // message, rule and missing bits), counts them in data-cells, and gets a
  // button that shows only them in the grid.
  var grid = document.querySelector('table.grid');
  var causes = document.querySelectorAll('div.cause');
  var active = null;
  function ofCause(div, p) {
    return p && p.change === 'newly-broken' && p.after.result === 'failure' &&
      p.after.side === div.getAttribute('data-side') &&
      p.after.stage === div.getAttribute('data-stage') &&
      p.after.rule_id === div.getAttribute('data-rule') &&
      p.after.missing === div.getAttribute('data-missing');
  }
  for (var k = 0; k < causes.length; k++) {
    (function (div) {
      var mine = [];
      for (var j = 0; j < cells.length; j++) {
        if (ofCause(div, pair(Number(cells[j].getAttribute('data-i'))))) { mine.push(cells[j]); }
      }
      div.setAttribute('data-cells', String(mine.length));
      if (!grid || mine.length === 0) { return; }
      var button = el('button', 'show', 'Show only these pairs in the grid');
      button.type = 'button';
      button.addEventListener('click', function () {
        var on = active !== div;
        var old = document.querySelectorAll('td.cell.mark');
        for (var m = 0; m < old.length; m++) { old[m].classList.remove('mark'); }
        var buttons = document.querySelectorAll('div.cause button.show');
        for (var b = 0; b < buttons.length; b++) { buttons[b].textContent = 'Show only these pairs in the grid'; }
        grid.classList.toggle('focus', on);
        active = on ? div : null;
        if (on) {
          for (var n = 0; n < mine.length; n++) { mine[n].classList.add('mark'); }
          button.textContent = 'Show every pair again';
          show(mine[0]);
          grid.scrollIntoView({ block: 'nearest' });
        }
      });
      var h3 = div.querySelector('h3');
      if (h3) { h3.appendChild(button); }
    })(causes[k]);
  }
  body.setAttribute('data-failing-cells', String(failing));
  body.setAttribute('data-ready', '1');
})();

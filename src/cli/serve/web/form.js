// The enrollment form: its fields come from the rules' schema (`GET /v1/rules`); what the clerk
// has typed is checked through `POST /v1/check-fields` after a pause in typing (at most one
// request in flight; never while a kana conversion is open), and each finding is shown under
// the field it concerns. `登録する` enrolls the record through `POST /v1/enroll`.
'use strict';

(() => {
  const { api, el, label, finding, decisionBadge, status } = Kensa;
  const DEBOUNCE_MS = 300;
  const NUMERIC = new Set(['my_number', 'postal_code', 'bank.bank_code', 'bank.branch_code', 'bank.account_number']);
  const EXAMPLES = {
    my_number: '例: 1234 5678 9012', birth_date: '例: 1980-04-01 または 昭和55年4月1日',
    postal_code: '例: 100-0014', family_name_kana: '例: ヤマダ', given_name_kana: '例: ハナコ',
    'bank.holder_kana': '例: ﾔﾏﾀﾞ ﾊﾅｺ', former_names: '複数はカンマ（,）で区切る',
  };
  const form = document.getElementById('record');
  const box = document.getElementById('fields');
  let timer = null, inFlight = false, again = false, composing = false, generation = 0;

  // The field's schema without `null` (an optional field is `anyOf [type, null]`).
  function plain(s) {
    if (s && Array.isArray(s.anyOf)) return s.anyOf.find((x) => x.type !== 'null') || {};
    return s || {};
  }

  function fieldFor(path, s, required) {
    const id = 'f-' + path.replace(/\./g, '-');
    const wrap = el('div', { class: 'field', 'data-path': path });
    wrap.append(el('label', { for: id }, label(path), required ? '' : el('span', { class: 'key', text: '任意' }), el('span', { class: 'key', text: path })));
    let input;
    if (Array.isArray(s.enum)) {
      input = el('select', { id, name: path }, el('option', { value: '', text: '（選択）' }),
        s.enum.map((v) => el('option', { value: v, text: (Kensa.VALUES[v] || v) + '（' + v + '）' })));
    } else {
      input = el('input', { id, name: path, type: 'text', inputmode: NUMERIC.has(path) ? 'numeric' : null,
        placeholder: EXAMPLES[path] || null, 'aria-describedby': id + '-findings', 'data-list': s.type === 'array' ? '1' : null,
        maxlength: s.maxLength || null });
    }
    wrap.append(input, el('ul', { class: 'findings', id: id + '-findings', 'aria-live': 'polite' }));
    return wrap;
  }

  // The properties in the schema's order (`x-order`), else as given.
  function ordered(s) {
    const props = s.properties || {};
    const keys = Array.isArray(s['x-order']) ? s['x-order'].filter((k) => k in props) : Object.keys(props);
    return keys.map((k) => [k, props[k]]);
  }

  function build(schema) {
    const required = new Set(schema.required || []);
    for (const [key, raw] of ordered(schema)) {
      const s = plain(raw);
      if (s.type === 'object' && s.properties) {
        const set = el('fieldset', { class: 'group', 'data-path': key }, el('legend', { text: label(key) + '（任意）' }));
        const inner = new Set(s.required || []);
        for (const [k, r] of ordered(s)) set.append(fieldFor(key + '.' + k, plain(r), inner.has(k)));
        set.append(el('ul', { class: 'findings', id: 'f-' + key + '-findings' }));
        box.append(set);
      } else {
        box.append(fieldFor(key, s, required.has(key)));
      }
    }
  }

  // The record as typed so far: blank fields left out, a group only when something in it is.
  function record() {
    const out = {};
    for (const input of form.querySelectorAll('input[name], select[name]')) {
      const v = input.value;
      if (v.trim() === '') continue;
      const value = input.dataset.list ? v.split(/[,、，]/).map((x) => x.trim()).filter(Boolean) : v;
      const parts = input.name.split('.');
      let at = out;
      for (const p of parts.slice(0, -1)) at = at[p] = at[p] || {};
      at[parts[parts.length - 1]] = value;
    }
    return out;
  }

  function show(verdict) {
    for (const ul of form.querySelectorAll('ul.findings')) ul.replaceChildren();
    for (const f of form.querySelectorAll('.field')) f.classList.remove('has-reject', 'has-review', 'has-warn');
    const general = document.getElementById('general');
    general.replaceChildren();
    for (const f of verdict.findings || []) {
      const places = (f.fields || []).map((p) => form.querySelector(`[data-path="${CSS.escape(p)}"]`)).filter(Boolean);
      if (places.length === 0) { general.append(finding(f)); continue; }
      for (const place of places) {
        place.querySelector(':scope > ul.findings').append(finding(f));
        place.classList.add('has-' + f.severity);
      }
    }
    decisionBadge(document.getElementById('decision'), verdict.decision);
    const pending = (verdict.pending || []).length;
    document.getElementById('score').textContent = '点数 ' + verdict.score + (pending ? `（未確認のルール ${pending}件: 未入力の欄があります）` : '');
  }

  async function check() {
    timer = null;
    if (composing) return;
    if (inFlight) { again = true; return; }
    const rec = record();
    if (Object.keys(rec).length === 0) { show({ findings: [], decision: null, score: '—' }); decisionBadge(document.getElementById('decision'), null); return; }
    inFlight = true;
    const mine = ++generation;
    try {
      const v = await api('/v1/check-fields', { method: 'POST', body: rec });
      if (mine === generation) show(v);
      status('');
    } catch (e) {
      status('確認できませんでした: ' + e.message, true);
    } finally {
      inFlight = false;
      if (again) { again = false; schedule(); }
    }
  }

  function schedule() {
    if (timer) clearTimeout(timer);
    timer = setTimeout(check, DEBOUNCE_MS);
  }

  form.addEventListener('compositionstart', () => { composing = true; if (timer) { clearTimeout(timer); timer = null; } });
  form.addEventListener('compositionend', () => { composing = false; schedule(); });
  form.addEventListener('input', (e) => { if (!composing && !e.isComposing) schedule(); });
  form.addEventListener('change', schedule);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const button = document.getElementById('enroll');
    button.disabled = true;
    const out = document.getElementById('outcome');
    try {
      const v = await api('/v1/enroll', { method: 'POST', body: record() });
      show(v);
      const related = [...new Set((v.findings || []).flatMap((f) => f.related || []))];
      const what = v.enrolled ? '登録しました' : v.already_stored ? 'この記録は登録済みです' : '登録していません';
      out.replaceChildren(
        el('h2', { text: what }),
        el('p', {}, '判定: ', el('strong', { class: 'decision decision-' + v.decision, text: Kensa.DECISION[v.decision] + '（' + v.decision + '）' }), ' 点数 ' + v.score),
        el('p', { text: '判定番号: ' + v.decision_id }),
        v.decision === 'review' ? el('p', {}, el('a', { href: '/review/' + encodeURIComponent(v.decision_id), id: 'open-review' },
          related.length ? `照合画面を開く（登録済みの ${related.join('、')} と比べる）` : '確認画面を開く')) : null,
        el('ul', { class: 'findings' }, (v.findings || []).map(finding)));
      out.hidden = false;
      out.setAttribute('tabindex', '-1');
      out.focus();
      status('');
    } catch (err) {
      status('登録できませんでした: ' + err.message, true);
    } finally {
      button.disabled = false;
    }
  });

  document.getElementById('clear').addEventListener('click', () => {
    form.reset();
    document.getElementById('outcome').hidden = true;
    schedule();
  });

  async function start() {
    try {
      const rules = await api('/v1/rules');
      build(rules.schema);
      status('');
    } catch (e) {
      if (e.status === 401) { Kensa.askToken(start); return; }
      status('規則を読み込めませんでした: ' + e.message, true);
    }
  }
  start();
})();

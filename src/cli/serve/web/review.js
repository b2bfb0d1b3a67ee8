// The review screen: the record sent to review beside each registry record it was compared
// with, field by field (raw values, and under them the values the rules compared), agreeing and
// differing fields marked in words and colour, the waterfall of match weights, the findings that
// sent it here, and the reviewer's decision, recorded in the decision log.
'use strict';

(() => {
  const { api, el, label, compareLabel, finding, status, waterfall, when, percent, shownValue } = Kensa;
  let order = [];
  const id = decodeURIComponent(location.pathname.replace(/^\/review\//, ''));
  // Which record fields each `compare` line of the standard set reads.
  const COMPARED_FIELDS = {
    name: ['family_name', 'given_name'], reading: ['family_name_kana', 'given_name_kana'], birth: ['birth_date'],
    sex: ['sex'], address: ['address', 'postal_code'], number: ['my_number'],
  };

  function flat(obj, prefix, out) {
    for (const [k, v] of Object.entries(obj || {})) {
      const path = prefix ? prefix + '.' + k : k;
      if (v && typeof v === 'object' && !Array.isArray(v)) flat(v, path, out);
      else out[path] = Array.isArray(v) ? v.join('、') : v;
    }
    return out;
  }

  function pairView(record, pair, n) {
    const mine = flat(record, '', {}), theirs = flat(pair.record, '', {});
    const byField = {};
    for (const c of pair.comparisons) for (const f of COMPARED_FIELDS[c.name] || []) byField[f] = c;
    const present = new Set([...Object.keys(mine), ...Object.keys(theirs)]);
    const keys = [...order.filter((k) => present.has(k)), ...[...present].filter((k) => !order.includes(k))];
    const rows = keys.map((k) => {
      const a = mine[k], b = theirs[k];
      const c = byField[k];
      // Only the compared fields agree or differ; the others (the record's own id) are shown.
      const cls = !c || c.level === null || c.level === undefined ? 'neutral' : c.weight > 0 ? 'agree' : 'differ';
      const markText = cls === 'agree' ? '一致' : cls === 'differ' ? '相違' : '（比較しない）';
      const cell = (v, norm) => el('td', { class: cls }, v === undefined ? '（なし）' : String(shownValue(v)),
        norm !== undefined && norm !== null && String(norm) !== String(v) ? el('span', { class: 'norm', text: norm }) : null);
      return el('tr', {}, el('th', { scope: 'row' }, label(k)),
        cell(a, c && c.record_value), cell(b, c && c.candidate_value),
        el('td', { class: 'mark ' + cls, text: markText }));
    });
    const weights = pair.comparisons.map((c) => el('tr', {},
      el('th', { scope: 'row', text: compareLabel(c.name) }),
      el('td', { text: c.record_value === null || c.record_value === undefined ? '（なし）' : c.record_value }),
      el('td', { text: c.candidate_value === null || c.candidate_value === undefined ? '（なし）' : c.candidate_value }),
      el('td', { text: c.level || '—' }),
      el('td', { class: 'num', text: (c.weight >= 0 ? '+' : '−') + Math.abs(c.weight).toFixed(2) + (c.frequency_adjustment ? `（頻度 ${c.frequency_adjustment >= 0 ? '+' : '−'}${Math.abs(c.frequency_adjustment).toFixed(2)}）` : '') })));
    return el('section', { class: 'pair', 'aria-labelledby': 'pair-' + n },
      el('h2', { id: 'pair-' + n, text: `登録済みの ${pair.id} との比較（一致確率 ${percent(pair.probability)}）` }),
      el('table', { class: 'compare' },
        el('caption', { text: '項目ごとの比較（下段は照合に使った正規化後の値）' }),
        el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: '項目' }), el('th', { scope: 'col', text: 'この申請' }),
          el('th', { scope: 'col', text: '登録済み ' + pair.id }), el('th', { scope: 'col', text: '判定' }))),
        el('tbody', {}, rows)),
      el('h3', { text: '照合の重み（ビット）' }),
      waterfall(pair),
      el('table', { class: 'weights' },
        el('caption', { text: '比較ごとの重み' }),
        el('thead', {}, el('tr', {}, ['比較', 'この申請', '登録済み', '水準', '重み'].map((t) => el('th', { scope: 'col', text: t })))),
        el('tbody', {}, weights)));
  }

  function showMarks(reviews) {
    const box = document.getElementById('marks');
    box.replaceChildren(...(reviews || []).map((m) => el('p', { class: 'mark-done' },
      `${when(m.time)} ${m.caller}: ` + ({ new_person: '新しい方として受付', same_person: '同一人物（' + m.same_as + '）', reject: '却下' }[m.action] || m.action) + (m.note ? ` — ${m.note}` : ''))));
  }

  async function load() {
    try {
      if (order.length === 0) order = await Kensa.fieldOrder();
      const d = await api('/v1/decisions/' + encodeURIComponent(id));
      const v = d.verdict || {};
      document.title = `照合の確認 ${v.id || id} — kensa`;
      document.getElementById('head').replaceChildren(
        el('p', { class: 'decision decision-' + v.decision, text: (Kensa.DECISION[v.decision] || v.decision) + '（' + v.decision + '）' }),
        el('p', { class: 'score', text: '点数 ' + v.score }),
        el('p', { text: `記録番号 ${v.id || '—'} ／ 判定番号 ${id} ／ ${when(d.time)}` }));
      document.getElementById('findings').replaceChildren(...(v.findings || []).map(finding));
      const pairs = d.pairs || [];
      document.getElementById('pairs').replaceChildren(...(pairs.length
        ? pairs.map((p, i) => pairView(d.record || {}, p, i))
        : [el('p', { class: 'hint', text: '比べる登録済みの記録はありません（登録簿なしで判定されたか、照合先のない確認です）。' })]));
      const same = document.getElementById('same-as');
      same.replaceChildren(...pairs.map((p) => el('option', { value: p.id, text: p.id })));
      showMarks(d.reviews);
      status('');
    } catch (e) {
      if (e.status === 401) { Kensa.askToken(load); return; }
      status('読み込めませんでした: ' + e.message, true);
    }
  }

  document.getElementById('mark').addEventListener('submit', async (e) => {
    e.preventDefault();
    const action = (document.querySelector('input[name="action"]:checked') || {}).value;
    if (!action) { status('確認結果を選んでください', true); return; }
    const body = { action, note: document.getElementById('note').value };
    if (action === 'same_person') body.same_as = document.getElementById('same-as').value;
    try {
      const r = await api('/v1/decisions/' + encodeURIComponent(id) + '/review', { method: 'POST', body });
      status('記録しました（' + r.review_id + '）');
      setTimeout(load, 300);
    } catch (err) {
      status('記録できませんでした: ' + err.message, true);
    }
  });

  load();
})();

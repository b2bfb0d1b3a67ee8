// The review queue: the decisions sent to review, newest first, filterable by the rule that sent
// them, with the number per rule (`GET /v1/review-queue`).
'use strict';

(() => {
  const { api, el, status, when } = Kensa;
  const select = document.getElementById('rule');

  async function load() {
    const rule = select.value;
    try {
      const q = await api('/v1/review-queue' + (rule ? '?rule=' + encodeURIComponent(rule) : ''));
      const counts = Object.entries(q.counts || {}).sort((a, b) => b[1] - a[1]);
      if (select.options.length === 1) {
        for (const [r, n] of counts) select.append(el('option', { value: r, text: `${r}（${n}件）` }));
      }
      document.querySelector('#counts tbody').replaceChildren(
        ...counts.map(([r, n]) => el('tr', {}, el('td', {}, el('code', { text: r })), el('td', { class: 'num', text: n }))));
      document.getElementById('queue-caption').textContent = `確認待ち ${q.total}件` + (rule ? `（${rule}）` : '');
      document.querySelector('#queue tbody').replaceChildren(...q.items.map((it) => el('tr', {},
        el('td', { text: when(it.time) }),
        el('td', {}, el('a', { href: '/review/' + encodeURIComponent(it.decision_id) }, it.id || it.decision_id)),
        el('td', { class: 'num', text: it.score }),
        el('td', {}, it.rules.map((r) => el('code', { text: r + ' ' }))),
        el('td', { text: (it.related || []).join('、') }),
        el('td', {}, it.reviewed
          ? el('span', { class: 'mark-done', text: '確認済み: ' + ({ new_person: '新しい方', same_person: '同一人物', reject: '却下' }[it.reviewed.action] || it.reviewed.action) })
          : el('span', { class: 'mark-open', text: '未確認' })))));
      status(q.items.length ? '' : '確認待ちの申請はありません');
    } catch (e) {
      if (e.status === 401) { Kensa.askToken(load); return; }
      status('読み込めませんでした: ' + e.message, true);
    }
  }
  select.addEventListener('change', load);
  load();
})();
